"""The password policy: every password a person sets, or the system generates, must pass it.

Rules (each refusal names its rule, in Chinese): at least MIN_LENGTH characters, not only
whitespace, at least MIN_DISTINCT different characters, letters together with digits or
symbols, not the user name nor containing it, and not one of the common passwords shipped in
`common_passwords.txt` (compared without case and surrounding spaces).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

MIN_LENGTH = 10
MIN_DISTINCT = 4
COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


class PasswordRejected(ValueError):
    """A new password that does not meet the rules; str() says which."""


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(s.strip().lower() for s in lines if s.strip() and not s.startswith("#"))


def check(password: str, name: str = "") -> None:
    """Raise PasswordRejected naming the first rule `password` breaks (for user `name`)."""
    if not password or not password.strip():
        raise PasswordRejected("密码不能为空，也不能只由空格组成")
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"密码至少 {MIN_LENGTH} 位（现为 {len(password)} 位）")
    name = (name or "").strip().lower()
    lowered = password.lower()
    # a one-letter name would forbid that letter everywhere: for it only equality counts
    if name and (lowered.strip() == name or (len(name) >= 2 and name in lowered)):
        raise PasswordRejected("密码不能是用户名，也不能包含用户名")
    if lowered.strip() in common_passwords():
        raise PasswordRejected("这是常见密码，很容易被猜中，请换一个")
    if len(set(password)) < MIN_DISTINCT:
        raise PasswordRejected(f"密码至少要有 {MIN_DISTINCT} 个不同的字符")
    if not any(c.isalpha() for c in password) or all(c.isalpha() for c in password):
        raise PasswordRejected("密码须同时包含字母和数字（或符号）")
