"""Usernames (Kennung) of contact persons: the ministry's rule, without the dot, never reused."""

from __future__ import annotations

import re
from itertools import islice

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.accounts.usernames import (
    MAX_USERNAME_LENGTH,
    choose_username,
    normalise_name_part,
    username_candidates,
)

USERNAME = re.compile(r"^[a-z0-9]+$")


def allocate(names: list[tuple[str, str]], taken: set[str] | None = None) -> list[str]:
    taken = set() if taken is None else taken
    result = []
    for first, last in names:
        username = choose_username(first, last, taken)
        taken.add(username)
        result.append(username)
    return result


# --- the examples from the ministry letter -----------------------------------------


def test_first_initial_and_surname():
    assert choose_username("Bernd", "Müller", set()) == "bmueller"


def test_clash_takes_more_letters_of_the_first_name():
    assert allocate([("Jutta", "Becker"), ("Jasmin", "Becker"), ("Jasmin", "Becker")]) == [
        "jbecker",
        "jabecker",
        "jasbecker",
    ]


def test_numbers_once_every_first_name_prefix_is_taken():
    taken = {"jbecker", "jubecker", "jutbecker", "juttbecker", "juttabecker"}
    assert choose_username("Jutta", "Becker", taken) == "jbecker2"
    assert allocate([("Jutta", "Becker")] * 3, taken) == ["jbecker2", "jbecker3", "jbecker4"]


def test_candidate_order():
    assert list(islice(username_candidates("Jutta", "Becker"), 8)) == [
        "jbecker",
        "jubecker",
        "jutbecker",
        "juttbecker",
        "juttabecker",
        "jbecker2",
        "jbecker3",
        "jbecker4",
    ]


def test_deleted_accounts_usernames_are_not_reused():
    # the caller passes the usernames of deleted accounts as taken as well
    assert choose_username("Bernd", "Müller", {"bmueller"}) == "bemueller"


# --- normalisation -----------------------------------------------------------------


def test_particles_are_kept():
    assert normalise_name_part("von der Heide") == "vonderheide"
    assert choose_username("Klaus", "von der Heide", set()) == "kvonderheide"


def test_hyphenated_surname():
    assert normalise_name_part("Berg-Schulte") == "bergschulte"
    assert choose_username("Petra", "Berg-Schulte", set()) == "pbergschulte"


def test_sharp_s():
    assert normalise_name_part("Strauß") == "strauss"
    assert normalise_name_part("STRAUẞ") == "strauss"
    assert choose_username("Gerda", "Strauß", set()) == "gstrauss"


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("José", "Núñez", "jnunez"),
        ("Łukasz", "Wójcik", "lwojcik"),
        ("Søren", "Kierkegaard", "skierkegaard"),
        ("Zoë", "Brontë", "zbronte"),
    ],
)
def test_accented_names(first, last, expected):
    assert choose_username(first, last, set()) == expected


def test_uppercase_umlauts():
    assert normalise_name_part("ÖZTÜRK") == "oeztuerk"
    assert normalise_name_part("ÄRGER") == "aerger"
    assert choose_username("Ümit", "ÖZTÜRK", set()) == "uoeztuerk"


def test_decomposed_umlaut_is_transcribed_like_the_composed_one():
    assert normalise_name_part("Mu\u0308ller") == "mueller"


@pytest.mark.parametrize(("text", "expected"), [("æ", "ae"), ("ø", "oe"), ("Œ", "oe"), ("đ", "d"), ("ı", "i")])
def test_letters_nfkd_does_not_decompose(text, expected):
    assert normalise_name_part(text) == expected


def test_apostrophes():
    assert normalise_name_part("O'Neill") == "oneill"
    assert choose_username("Seán", "O’Neill", set()) == "soneill"
    assert choose_username("Ana", "D'Angelo", set()) == "adangelo"


def test_first_name_of_several_words_uses_its_letters_in_order():
    assert list(islice(username_candidates("Anna-Lena", "Schmidt"), 4)) == [
        "aschmidt",
        "anschmidt",
        "annschmidt",
        "annaschmidt",
    ]
    assert allocate([("Hans Peter", "Schulz")] * 6)[-2:] == ["hanspschulz", "hanspeschulz"]


# --- edge cases --------------------------------------------------------------------


def test_max_length():
    surname = "Wolfeschlegelsteinhausenbergerdorff"  # 35 letters
    first = choose_username("Maximilian", surname, set())
    assert first == ("m" + surname.lower())[:MAX_USERNAME_LENGTH]
    assert len(first) == MAX_USERNAME_LENGTH
    # no longer first-name prefix fits, so the next one is numbered (surname truncated further)
    second = choose_username("Maximilian", surname, {first})
    assert second == first[:31] + "2"
    candidates = list(islice(username_candidates("Maximilian", surname), 20))
    assert all(len(c) <= MAX_USERNAME_LENGTH for c in candidates)
    assert len(set(candidates)) == len(candidates)


def test_long_first_name_prefixes_stop_where_the_surname_would_be_cut():
    candidates = list(islice(username_candidates("Bartholomaeus", "Schmidt-Rottluff-Wagner"), 13))
    # "schmidtrottluffwagner" has 21 letters, so at most 11 letters of the first name
    assert candidates[10] == "bartholomaeschmidtrottluffwagner"
    assert len(candidates[10]) == MAX_USERNAME_LENGTH
    assert candidates[11:] == ["bschmidtrottluffwagner2", "bschmidtrottluffwagner3"]


@pytest.mark.parametrize("first", ["", "   ", "-", "42", "李"])
def test_first_name_without_letters_falls_back_to_the_surname(first):
    assert allocate([(first, "Müller")] * 3) == ["mueller", "mueller2", "mueller3"]


@pytest.mark.parametrize("last", ["", "  ", "'-.", "李", "123"])
def test_surname_without_letters_is_refused(last):
    with pytest.raises(ValueError, match="surname has no letters"):
        choose_username("Bernd", last, set())
    with pytest.raises(ValueError, match="surname has no letters"):
        username_candidates("Bernd", last)  # eagerly, not on first next()


# --- properties --------------------------------------------------------------------

# Any unicode text around at least one letter that normalises to a-z.
surnames = st.builds(
    lambda before, letter, after: before + letter + after,
    st.text(max_size=40),
    st.sampled_from("aZüÖßẞéŁøŒı"),
    st.text(max_size=40),
)
names = st.tuples(st.text(max_size=40), surnames)


@settings(max_examples=200)
@given(text=st.text())
def test_normalise_yields_lowercase_ascii_and_is_idempotent(text):
    normalised = normalise_name_part(text)
    assert re.fullmatch(r"[a-z0-9]*", normalised)
    assert normalise_name_part(normalised) == normalised


@settings(max_examples=200)
@given(first=st.text(), last=st.text())
def test_only_surnames_without_letters_are_refused(first, last):
    has_letter = re.search(r"[a-z]", normalise_name_part(last)) is not None
    if has_letter:
        assert USERNAME.match(choose_username(first, last, set()))
    else:
        with pytest.raises(ValueError):
            choose_username(first, last, set())


@settings(max_examples=200)
@given(name=names, taken=st.sets(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", max_size=8)))
def test_username_is_lowercase_ascii_and_short(name, taken):
    username = choose_username(*name, taken)
    assert USERNAME.match(username)
    assert 0 < len(username) <= MAX_USERNAME_LENGTH
    assert username not in taken


@settings(max_examples=200)
@given(name=names)
def test_candidates_are_distinct_and_valid(name):
    candidates = list(islice(username_candidates(*name), 120))
    assert len(set(candidates)) == len(candidates)
    assert all(USERNAME.match(c) and len(c) <= MAX_USERNAME_LENGTH for c in candidates)


@settings(max_examples=200)
@given(data=st.data(), pool=st.lists(names, min_size=1, max_size=4))
def test_repeated_allocation_yields_unique_usernames(data, pool):
    people = data.draw(st.lists(st.sampled_from(pool), max_size=40))
    deleted = {choose_username(*pool[0], set())}  # an earlier, deleted account
    taken = set(deleted)
    usernames = allocate(people, taken)
    assert len(set(usernames)) == len(usernames)
    assert not deleted & set(usernames)
    assert all(USERNAME.match(u) and len(u) <= MAX_USERNAME_LENGTH for u in usernames)
