"""A generated English corpus with known word relations, so that analogy accuracy has a ground truth offline.

Four relation types, each a list of word pairs (a, b) with a topic word the pair shares: country-capital
(france, paris: french), gender (king, queen: royal), verb tense (walk, walked: park) and comparative (cold,
colder: winter). A small seeded grammar writes sentences around each word: words that mark its side of the
relation (a country is a "nation" with "borders", a capital a "city" with a "mayor"), its pair's topic and
common filler words. A model that learns from the contexts alone then places b - a + c near d for every two pairs
(a, b) and (c, d) of one relation type, as Mikolov et al. (2013, https://arxiv.org/abs/1301.3781) found in news
text.
"""

import dataclasses
import random


@dataclasses.dataclass(frozen=True)
class Relation:
    """What a -> b means (`arrow`), pairs (a, b, topic), the words that mark side a and side b, and sentence
    templates: `{w}` the word, `{r}` a word of its side, `{t}` its pair's topic."""

    arrow: str
    pairs: tuple
    side_a: tuple
    side_b: tuple
    templates: tuple


RELATIONS = {
    "capital": Relation(
        "country -> capital",
        pairs=(("france", "paris", "french"), ("germany", "berlin", "german"), ("italy", "rome", "italian"),
               ("spain", "madrid", "spanish"), ("japan", "tokyo", "japanese"), ("china", "beijing", "chinese"),
               ("russia", "moscow", "russian"), ("egypt", "cairo", "egyptian"), ("greece", "athens", "greek"),
               ("poland", "warsaw", "polish"), ("portugal", "lisbon", "portuguese"), ("austria", "vienna", "austrian"),
               ("sweden", "stockholm", "swedish"), ("norway", "oslo", "norwegian"), ("ireland", "dublin", "irish"),
               ("kenya", "nairobi", "kenyan"), ("peru", "lima", "peruvian"), ("canada", "ottawa", "canadian"),
               ("cuba", "havana", "cuban"), ("turkey", "ankara", "turkish")),
        side_a=("nation", "country", "borders", "president", "flag", "citizens"),
        side_b=("city", "capital", "streets", "mayor", "downtown", "suburbs"),
        templates=("{w} is a {r} of the {t} people", "the {t} {r} of {w} is known", "in {w} the {r} is {t}",
                   "we saw the {r} in {w} with the {t} crowd", "{w} has a {t} {r}")),
    "gender": Relation(
        "male -> female",
        pairs=(("king", "queen", "crown"), ("man", "woman", "adult"), ("boy", "girl", "school"),
               ("father", "mother", "parent"), ("son", "daughter", "family"), ("brother", "sister", "sibling"),
               ("uncle", "aunt", "relative"), ("husband", "wife", "married"), ("prince", "princess", "palace"),
               ("nephew", "niece", "cousin"), ("grandfather", "grandmother", "elderly"), ("actor", "actress", "stage"),
               ("waiter", "waitress", "restaurant"), ("monk", "nun", "monastery"), ("lord", "lady", "manor")),
        side_a=("he", "his", "him", "himself"),
        side_b=("she", "her", "hers", "herself"),
        templates=("the {w} said {r} {t} was near", "{r} {t} and the {w}", "a {w} and {r} {t} went home",
                   "the {t} {w} lost {r} way", "{r} was the {t} {w}")),
    "tense": Relation(
        "present -> past",
        pairs=(("walk", "walked", "park"), ("talk", "talked", "friends"), ("play", "played", "games"),
               ("cook", "cooked", "dinner"), ("paint", "painted", "picture"), ("jump", "jumped", "fence"),
               ("open", "opened", "door"), ("clean", "cleaned", "room"), ("watch", "watched", "film"),
               ("climb", "climbed", "hill"), ("plant", "planted", "seeds"), ("visit", "visited", "museum"),
               ("call", "called", "phone"), ("wash", "washed", "dishes"), ("dance", "danced", "music")),
        side_a=("today", "now", "usually", "always", "tomorrow"),
        side_b=("yesterday", "ago", "earlier", "once", "before"),
        templates=("we {w} the {t} {r}", "{r} they {w} to the {t}", "i {w} near the {t} {r}",
                   "you {w} with the {t} {r}", "{r} we all {w} by the {t}")),
    "comparative": Relation(
        "adjective -> comparative",
        pairs=(("small", "smaller", "mouse"), ("tall", "taller", "tower"), ("fast", "faster", "car"),
               ("slow", "slower", "snail"), ("cold", "colder", "winter"), ("warm", "warmer", "summer"),
               ("old", "older", "castle"), ("strong", "stronger", "ox"), ("bright", "brighter", "sun"),
               ("dark", "darker", "cave"), ("long", "longer", "road"), ("short", "shorter", "pencil"),
               ("deep", "deeper", "ocean"), ("high", "higher", "mountain"), ("soft", "softer", "pillow")),
        side_a=("very", "quite", "so", "too", "really"),
        side_b=("than", "much", "even", "far", "still"),
        templates=("the {t} is {r} {w}", "a {r} {w} {t}", "that {t} was {r} {w} there", "the {t} looks {r} {w}",
                   "it is a {w} {t} {r}")),
}


def relation_sentences(count, seed=0, relations=None):
    """`count` sentences, each about one word of one pair (relation, pair and side drawn uniformly), seeded."""
    relations = RELATIONS if relations is None else relations
    rng = random.Random(seed)
    names = sorted(relations)
    out = []
    for _ in range(count):
        rel = relations[rng.choice(names)]
        a, b, topic = rng.choice(rel.pairs)
        word, side = (a, rel.side_a) if rng.random() < 0.5 else (b, rel.side_b)
        out.append(rng.choice(rel.templates).format(w=word, r=rng.choice(side), t=topic))
    return out


def analogy_questions(relations=None):
    """Every (relation, a, b, c, d) with (a, b) and (c, d) two different pairs of one relation: a is to b as c is
    to d."""
    relations = RELATIONS if relations is None else relations
    return [(name, a, b, c, d) for name in sorted(relations) for a, b, _ in relations[name].pairs
            for c, d, _ in relations[name].pairs if a != c]
