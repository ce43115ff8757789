"""统一社会信用代码 (Unified Social Credit Code) checks, GB 32100-2015. Pure, no Django ORM.

18 characters: 1 registration authority, 1 entity type, 6 administrative division digits,
9 organisation code characters, 1 check character. The alphabet has 31 characters (no I, O,
Z, S, V); character i (1-based) has weight 3^(i-1) mod 31 and the check character is
31 - (sum mod 31), with 31 written as 0.
"""

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUE = {char: index for index, char in enumerate(ALPHABET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]
LENGTH = 18


class USCCError(ValueError):
    """A code that breaks one of the standard's rules; the message names the rule."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code  # a machine-readable rule name: length, charset, division, checksum


def normalise(value: str) -> str:
    return (value or "").strip().upper()


def check_character(first17: str) -> str:
    total = sum(VALUE[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate(value: str) -> str:
    """Return the normalised code or raise USCCError saying which rule it breaks."""
    code = normalise(value)
    if len(code) != LENGTH:
        raise USCCError("length", f"统一社会信用代码应为18位，当前为{len(code)}位。")
    bad = sorted({char for char in code if char not in VALUE})
    if bad:
        raise USCCError(
            "charset",
            f"统一社会信用代码含有不允许的字符：{'、'.join(bad)}"
            "（不得使用 I、O、Z、S、V 及符号）。",
        )
    if not code[2:8].isdigit():
        raise USCCError("division", "统一社会信用代码第3至8位应为行政区划代码（6位数字）。")
    expected = check_character(code[:17])
    if code[17] != expected:
        raise USCCError(
            "checksum",
            f"统一社会信用代码校验位错误：第18位应为 {expected}，实际为 {code[17]}。",
        )
    return code


def is_valid(value: str) -> bool:
    try:
        validate(value)
    except USCCError:
        return False
    return True


def make(first17: str) -> str:
    """Complete 17 characters with their check character (used by the demo data generator)."""
    first17 = normalise(first17)
    if len(first17) != 17 or any(char not in VALUE for char in first17):
        raise USCCError("length", "需要17位合法字符来生成校验位。")
    return first17 + check_character(first17)
