"""Secret links: random ones hashed without the key, derived ones salted by purpose and keyed."""

from __future__ import annotations

import hashlib

from grille.core.tokens import accepted_keys, derived_token, hash_token, new_token

KEY, OTHER_KEY = "k" * 50, "o" * 50


def test_a_random_token_and_its_hash_do_not_depend_on_the_key(settings):
    raw, digest = new_token()
    settings.SECRET_KEY = OTHER_KEY

    assert digest == hash_token(raw) == hashlib.sha256(raw.encode()).hexdigest()
    assert len(raw) == 32


def test_accepted_keys_are_the_current_key_then_the_fallbacks(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = KEY, [OTHER_KEY, "x" * 50]

    assert accepted_keys() == [KEY, OTHER_KEY, "x" * 50]


def test_a_derived_token_changes_with_the_purpose_the_value_and_the_key():
    token = derived_token("grille.test", "value", key=KEY)

    assert token == derived_token("grille.test", "value", key=KEY)
    assert len(token) == 32
    assert len({
        token,
        derived_token("grille.other", "value", key=KEY),
        derived_token("grille.test", "other", key=KEY),
        derived_token("grille.test", "value", key=OTHER_KEY),
    }) == 4
