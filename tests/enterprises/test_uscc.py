"""统一社会信用代码 (GB 32100-2015) checks."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from enterprises import uscc
from enterprises.models import validate_uscc
from tests.factories import EnterpriseFactory

REAL = ["914403001922038216", "91440300708461136T"]  # Huawei, Tencent Computer Systems


@pytest.mark.parametrize("code", REAL)
def test_real_published_codes_are_valid(code):
    assert uscc.validate(code) == code
    assert uscc.validate(code.lower()) == code  # lower case is normalised
    assert uscc.validate(f"  {code}  ") == code


@pytest.mark.parametrize("code", REAL)
def test_every_single_character_substitution_is_rejected(code):
    tried = 0
    for position in range(18):
        for char in uscc.ALPHABET:
            if char == code[position]:
                continue
            changed = code[:position] + char + code[position + 1 :]
            assert not uscc.is_valid(changed), changed
            tried += 1
    assert tried == 18 * 30


@pytest.mark.parametrize("code", REAL)
def test_every_adjacent_transposition_is_rejected(code):
    tried = 0
    for position in range(17):
        a, b = code[position], code[position + 1]
        if a == b:
            continue  # swapping equal characters gives the same code
        swapped = code[:position] + b + a + code[position + 2 :]
        assert not uscc.is_valid(swapped), swapped
        tried += 1
    assert tried >= 12


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_letters_outside_the_alphabet_are_rejected_with_the_rule_named(letter):
    code = "91440300708461136" + letter
    with pytest.raises(uscc.USCCError) as error:
        uscc.validate(code)
    assert error.value.code == "charset"
    assert letter in str(error.value) and "不允许的字符" in str(error.value)


@pytest.mark.parametrize(
    ("value", "rule", "words"),
    [
        ("91440300708461136", "length", "18位"),
        ("9144030070846113600", "length", "18位"),
        ("9144030A708461136T", "division", "行政区划"),
        ("91440300708461136A", "checksum", "校验位"),
        ("91440300-08461136T", "charset", "不允许的字符"),
    ],
)
def test_error_messages_say_which_rule_failed(value, rule, words):
    with pytest.raises(uscc.USCCError) as error:
        uscc.validate(value)
    assert error.value.code == rule and words in str(error.value)


def test_checksum_example_values():
    assert uscc.check_character("91440300708461136") == "T"
    assert uscc.make("91440300708461136") == "91440300708461136T"


def test_the_model_validator_raises_a_validation_error_with_the_rule():
    with pytest.raises(ValidationError) as error:
        validate_uscc("91440300708461136A")
    assert error.value.code == "uscc_checksum"


@pytest.mark.django_db
def test_the_database_keeps_codes_unique_and_upper_case():
    enterprise = EnterpriseFactory(uscc=REAL[1].lower())
    enterprise.refresh_from_db()
    assert enterprise.uscc == REAL[1]
    with pytest.raises(IntegrityError), transaction.atomic():
        EnterpriseFactory(uscc=REAL[1])
    with pytest.raises(IntegrityError), transaction.atomic():
        EnterpriseFactory(uscc="91440300708461136!")  # the CHECK constraint, not just forms
