"""Embedded translation task that needs reordering: numbers to words in several languages with `num2words`.

"fr 4,072" -> "quatre mille soixante-douze", "de 72" -> "zweiundsiebzig" (units before tens),
"fr 97" -> "quatre-vingt-dix-sept" (4 x 20 + 17). The source is a language code and the number
with thousands separators; deterministic from a seed.
"""

import random

from num2words import num2words

LANGUAGES = ("en", "fr", "de", "es")


def number_pairs(count, seed=0, largest=99_999):
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        # Half the numbers below 1000, so small and large magnitudes are both well covered.
        n = rng.randint(0, 999) if rng.random() < 0.5 else rng.randint(0, largest)
        lang = rng.choice(LANGUAGES)
        pairs.append((f"{lang} {n:,}", num2words(n, lang=lang)))
    return pairs

