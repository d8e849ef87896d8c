import pytest
from django.core.exceptions import ValidationError

from customers.phones import normalise_phone


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        " 138.1234.5678 ",
        "+86 138 1234 5678",
        "+8613812345678",
        "8613812345678",
        "86 138 1234 5678",
        "0086 138 1234 5678",
        "(+86) 138-1234-5678",
    ],
)
def test_every_way_of_typing_a_chinese_mobile_gives_the_same_e164_number(raw):
    assert normalise_phone(raw) == "+8613812345678"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+44 7911 123456", "+447911123456"),
        ("+1 (650) 253-0000", "+16502530000"),
        ("0044 7911 123456", "+447911123456"),
    ],
)
def test_numbers_outside_china_keep_their_country_code(raw, expected):
    assert normalise_phone(raw) == expected


def test_an_empty_phone_stays_empty():
    assert normalise_phone("  ") == ""


def _message(raw) -> str:
    with pytest.raises(ValidationError) as caught:
        normalise_phone(raw)
    return " ".join(caught.value.messages)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1381234567", "This mobile number has 10 digits; Chinese mobiles have 11."),
        ("138123456789", "This mobile number has 12 digits; Chinese mobiles have 11."),
        ("+86 1381234567", "This mobile number has 10 digits; Chinese mobiles have 11."),
        ("12345678901", "“12345678901” is not a valid Chinese mobile number: check the first three digits."),
        ("010 1234 5678", "“010 1234 5678” is a landline number; enter a mobile number."),
        ("+86 10 1234 5678", "is a landline number; enter a mobile number."),
        ("138-abcd-5678", "contains characters a phone number cannot have"),
        ("138+12345678", "contains characters a phone number cannot have"),
        ("+999 1234567", "“+999 1234567” does not start with a known country code."),
        ("+44 79", "“+44 79” is too short for a +44 number."),
        ("+1 650 253 0000 12345", "is too long for a +1 number."),
        ("447911123456", "for a number outside China, start with + and the country code."),
    ],
)
def test_a_bad_number_gets_a_message_that_says_what_is_wrong(raw, message):
    assert message in _message(raw)


def test_messages_carry_codes_the_importer_can_rely_on():
    with pytest.raises(ValidationError) as caught:
        normalise_phone("1381234567")
    assert caught.value.code == "phone_length"
