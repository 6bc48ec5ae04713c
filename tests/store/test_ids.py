"""Ids are ULIDs: a prefix, 26 Crockford base32 digits, time-ordered, unique."""
import re
import time

from hub.store import ids

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def decode(digits: str) -> int:
    value = 0
    for char in digits:
        value = value * 32 + CROCKFORD.index(char)
    return value


def test_an_id_is_a_prefixed_ulid_whose_first_digits_are_the_time_in_milliseconds():
    before = int(time.time() * 1000)
    value = ids.new_id("evt")
    after = int(time.time() * 1000)
    assert re.fullmatch(r"evt_[0-9A-HJKMNP-TV-Z]{26}", value)
    assert before <= decode(value[4:14]) <= after


def test_ids_made_later_sort_later_and_never_repeat():
    made = []
    for _ in range(3):
        made += [ids.new_id("out") for _ in range(500)]
        time.sleep(0.002)
    assert len(set(made)) == len(made)
    firsts = [made[0], made[500], made[1000]]
    assert firsts == sorted(firsts)
    assert [value[4:14] for value in made] == sorted(value[4:14] for value in made)


def test_base32_digits_match_a_digit_by_digit_encoding():
    for value, length in [(0, 10), (1, 10), (31, 2), (32, 2), ((1 << 80) - 1, 16), (1 << 125, 26)]:
        expected, rest = "", value
        for _ in range(length):
            rest, digit = divmod(rest, 32)
            expected = CROCKFORD[digit] + expected
        assert ids._base32(value, length) == expected


def test_ids_made_in_the_same_millisecond_keep_the_order_they_were_made_in():
    made = [ids.new_id("msg") for _ in range(2000)]  # many share a millisecond
    assert [value[4:] for value in made] == sorted(value[4:] for value in made)
    assert len(set(made)) == len(made)
