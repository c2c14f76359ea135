"""Embedded translation task: human-readable dates in many locales and formats -> ISO dates.

"Donnerstag, 14. Januar 1993" -> "1993-01-14". Dates are drawn with `faker` and written with
`babel`'s CLDR locale data, deterministically from a seed. The task is unambiguous by
construction: years lie in 1950-2049 so two-digit years have one reading, and all-numeric forms
are kept only where their separator and digit counts say which number is the day
(en_US "1/14/93" is month-first; day-first slashes come with four-digit years, dots and
dashes are day-first, Swedish "1993-01-14" is ISO already); es_ES and it_IT short forms
("14/1/93", "14/01/93") would collide with en_US and are left out.
"""

import datetime
import random

from babel.dates import format_date
from faker import Faker

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL", "sv_SE", "pl_PL",
           "da_DK", "ru_RU")
FORMATS = ("short", "medium", "long", "full", "d MMM y", "EEE, d MMMM y", "d MMMM y")
AMBIGUOUS_SHORT = {"es_ES", "it_IT"}
FIRST, LAST = datetime.date(1950, 1, 1), datetime.date(2049, 12, 31)


def _styles():
    return [(locale, fmt) for locale in LOCALES for fmt in FORMATS
            if not (fmt == "short" and locale in AMBIGUOUS_SHORT)]


def date_pairs(count, seed=0):
    """`count` (human-readable date, ISO date) pairs, the same for the same seed.

    Casing varies the way people type (as written, lower case, upper case, capitalized).
    """
    faker = Faker()
    faker.seed_instance(seed)
    rng = random.Random(seed)
    styles = _styles()
    casings = (str, str.lower, str.upper, str.capitalize)
    pairs = []
    for _ in range(count):
        day = faker.date_between(FIRST, LAST)
        locale, fmt = rng.choice(styles)
        text = rng.choices(casings, weights=(4, 2, 1, 1))[0](format_date(day, fmt, locale=locale))
        pairs.append((" ".join(text.split()), day.isoformat()))  # no-break and narrow spaces -> space
    return pairs

