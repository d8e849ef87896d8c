"""Phone numbers: one normalised form (E.164) for every way people type them.

Chinese mobiles are typed as 13812345678, 138 1234 5678, 138-1234-5678, +86 138..., 86138...
or 0086 138...; numbers elsewhere start with + (or 00) and their country code. All of them
are stored as E.164 (+8613812345678) so that a duplicate is found whatever the format, and
the card's ``phone_rev`` (the digits reversed) serves "last 4 or more digits" searches.

The form and the importer both call :func:`normalise_phone`, so a number refused on the
card is refused in a spreadsheet with the same message.
"""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

DEFAULT_REGION = "CN"
CHINA_CODE = "86"
CHINESE_MOBILE_DIGITS = 11

_SEPARATORS = re.compile(r"[\s().\-/]")
_MOBILE_PREFIX = re.compile(r"1[3-9]")
_MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
_LANDLINE_TYPES = {phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.VOIP}


def normalise_phone(raw: str) -> str:
    """The E.164 form of ``raw`` ("" for an empty value), or a ValidationError saying what is wrong.

    Numbers without a country code are taken as Chinese and must be 11-digit mobiles
    (a leading 86 is accepted: 8613812345678). Numbers with + or 00 and a country code
    may be any valid number of that country, except that Chinese ones must still be mobiles.
    """
    text = (raw or "").strip()
    if not text:
        return ""
    params = {"value": text}
    compact = _SEPARATORS.sub("", text)
    if not re.fullmatch(r"\+?\d+", compact):
        raise ValidationError(
            _(
                "“%(value)s” contains characters a phone number cannot have: "
                "use digits, spaces, dashes and a leading +."
            ),
            code="phone_characters",
            params=params,
        )
    digits = compact.lstrip("+")
    if compact.startswith("+") or digits.startswith("00"):
        international = digits if compact.startswith("+") else digits[2:]
        if international.startswith(CHINA_CODE):
            return _chinese_mobile(international[len(CHINA_CODE) :], params)
        return _international(international, params)
    if digits.startswith(CHINA_CODE) and len(digits) == CHINESE_MOBILE_DIGITS + len(CHINA_CODE):
        digits = digits[len(CHINA_CODE) :]
    return _chinese_mobile(digits, params)


def _chinese_mobile(national: str, params: dict) -> str:
    if _MOBILE_PREFIX.match(national):
        if len(national) != CHINESE_MOBILE_DIGITS:
            raise ValidationError(
                ngettext_lazy(
                    "This mobile number has %(count)d digit; Chinese mobiles have 11.",
                    "This mobile number has %(count)d digits; Chinese mobiles have 11.",
                    "count",
                ),
                code="phone_length",
                params={**params, "count": len(national)},
            )
        number = phonenumbers.parse(f"+{CHINA_CODE}{national}")
        if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in _MOBILE_TYPES:
            raise ValidationError(
                _("“%(value)s” is not a valid Chinese mobile number: check the first three digits."),
                code="phone_prefix",
                params=params,
            )
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    try:
        number = phonenumbers.parse(national, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if (
        number is not None
        and phonenumbers.is_valid_number(number)
        and phonenumbers.number_type(number) in _LANDLINE_TYPES
    ):
        raise ValidationError(
            _("“%(value)s” is a landline number; enter a mobile number."), code="phone_landline", params=params
        )
    if national.startswith("1") and len(national) == CHINESE_MOBILE_DIGITS:
        raise ValidationError(
            _("“%(value)s” is not a valid Chinese mobile number: check the first three digits."),
            code="phone_prefix",
            params=params,
        )
    raise ValidationError(
        _(
            "“%(value)s” is not a valid phone number. Chinese mobiles have 11 digits starting with 1; "
            "for a number outside China, start with + and the country code."
        ),
        code="phone_invalid",
        params=params,
    )


def _international(digits: str, params: dict) -> str:
    try:
        number = phonenumbers.parse(f"+{digits}")
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("“%(value)s” does not start with a known country code."), code="phone_country", params=params
        ) from None
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == phonenumbers.ValidationResult.INVALID_COUNTRY_CODE:
        raise ValidationError(
            _("“%(value)s” does not start with a known country code."), code="phone_country", params=params
        )
    if reason in (phonenumbers.ValidationResult.TOO_SHORT, phonenumbers.ValidationResult.INVALID_LENGTH):
        raise ValidationError(
            _("“%(value)s” is too short for a +%(code)s number."),
            code="phone_short",
            params={**params, "code": number.country_code},
        )
    if reason == phonenumbers.ValidationResult.TOO_LONG:
        raise ValidationError(
            _("“%(value)s” is too long for a +%(code)s number."),
            code="phone_long",
            params={**params, "code": number.country_code},
        )
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("“%(value)s” is not a valid phone number."), code="phone_invalid", params=params)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_digits(text: str) -> str:
    """Just the digits of what someone typed into a search box."""
    return re.sub(r"\D", "", text or "")
