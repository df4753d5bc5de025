"""Sign-in throttling (growing delays by name and by client, an administrator's own PC), the
same answer and the same argon2 work for unknown names, and the password policy; both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.access.permissions import Actor
from app.accounts import auth, login_throttle, password_policy

ADMIN = Actor("系统", "管理员", source="命令行")
PASSWORD = "sunny-2026a"
BOSS_PASSWORD = "harbour-light-77"
WRONG = "用户名或密码不正确"


@pytest.fixture
def clerk(db):
    return auth.add_user(db, ADMIN, "zhao", PASSWORD, "客服")


def fail(db, name, client, at, password="wrong-pass1"):
    with pytest.raises(auth.LoginFailed) as err:
        auth.sign_in(db, name, password, client, now=at)
    return str(err.value)


def test_the_delay_doubles_after_the_free_attempts_up_to_the_cap():
    # office.login_attempts = 5 free, then 30 s doubling, office.lockout_minutes = 15 min cap
    assert [login_throttle.delay(n, 5, 900) for n in (0, 4, 5, 6, 7, 9, 10, 40)] == \
        [0, 0, 30, 60, 120, 480, 900, 900]


def test_failures_for_a_name_make_every_client_wait_longer_each_time(db, clerk):
    t0 = db.now()
    for i in range(5):
        assert fail(db, "zhao", "10.0.0.66", t0 + timedelta(seconds=i)) == WRONG
    # the 6th try, even with the right password and from another client, waits 30 s after the 5th
    assert fail(db, "zhao", "10.0.0.66", t0 + timedelta(seconds=5), PASSWORD) == "登录尝试过于频繁，请 29 秒后再试"
    assert "请 29 秒后再试" in fail(db, "zhao", "10.0.0.7", t0 + timedelta(seconds=5), PASSWORD)
    # refused tries are not counted: after the wait one more wrong password, then 60 s
    assert fail(db, "zhao", "10.0.0.66", t0 + timedelta(seconds=34)) == WRONG
    assert "请 59 秒后再试" in fail(db, "zhao", "10.0.0.66", t0 + timedelta(seconds=35))
    signed = auth.sign_in(db, "zhao", PASSWORD, "10.0.0.7", now=t0 + timedelta(seconds=94))
    assert signed.failed_attempts == 6
    # the success cleared the name's failures: the next wrong password is answered at once
    assert fail(db, "zhao", "10.0.0.66", t0 + timedelta(seconds=95)) == WRONG


def test_unknown_names_are_throttled_exactly_like_real_ones(db, clerk):
    t0 = db.now()
    answers = {}
    for name in ("zhao", "nobody"):
        for i in range(5):
            fail(db, name, f"10.1.{len(answers)}.{i}", t0 + timedelta(seconds=i))
        answers[name] = fail(db, name, "10.2.0.1", t0 + timedelta(seconds=10))
    assert answers["zhao"] == answers["nobody"] == "登录尝试过于频繁，请 24 秒后再试"


def test_a_client_trying_many_names_is_slowed_down_but_not_the_others(db, clerk):
    t0 = db.now()
    for i in range(10):  # ten different names, none tried more than once
        assert fail(db, f"guess{i}", "10.0.0.66", t0 + timedelta(seconds=i)) == WRONG
    assert "请 29 秒后再试" in fail(db, "zhao", "10.0.0.66", t0 + timedelta(seconds=10), PASSWORD)
    assert auth.sign_in(db, "zhao", PASSWORD, "10.0.0.7", now=t0 + timedelta(seconds=10)).name == "zhao"


def test_an_administrator_on_their_own_pc_is_never_kept_out_by_others(db):
    boss = auth.add_user(db, ADMIN, "boss", BOSS_PASSWORD, "管理员")
    t0 = db.now()
    auth.sign_in(db, "boss", BOSS_PASSWORD, "10.0.0.5", now=t0)  # the administrator's own PC
    for i in range(12):  # someone elsewhere hammers the account; a shared PC tries other names
        fail(db, "boss", "10.0.0.66", t0 + timedelta(minutes=1, seconds=i))
        fail(db, f"guess{i}", "10.0.0.5", t0 + timedelta(minutes=1, seconds=i))
    at = t0 + timedelta(minutes=1, seconds=13)  # 5 failures counted, the 6th came too early
    assert "后再试" in fail(db, "boss", "10.0.0.66", at, BOSS_PASSWORD)  # the attacker waits
    assert "后再试" in fail(db, "boss", "10.0.0.99", at, BOSS_PASSWORD)  # so does a PC never used
    users = {u["name"]: u for u in auth.list_users(db, ADMIN)}
    assert users["boss"]["failed_since_login"] == 5 and users["boss"]["wait_until"] is not None
    signed = auth.sign_in(db, "boss", BOSS_PASSWORD, "10.0.0.5", now=at)
    assert (signed.user_id, signed.failed_attempts) == (boss, 5)  # only the 5 tries before the wait
    failures = auth.recent_failures(db, ADMIN)
    assert len(failures) == 5 + 10 and {f["client"] for f in failures if f["name"] == "boss"} == {"10.0.0.66"}


def test_failures_on_the_own_pc_for_the_own_name_still_count(db, clerk):
    t0 = db.now()
    auth.sign_in(db, "zhao", PASSWORD, "10.0.0.5", now=t0)
    for i in range(5):
        fail(db, "zhao", "10.0.0.5", t0 + timedelta(seconds=1 + i))
    assert "请 29 秒后再试" in fail(db, "zhao", "10.0.0.5", t0 + timedelta(seconds=6), PASSWORD)


def test_unlock_clears_the_throttle_of_the_name_and_of_the_clients_that_tried_it(db, clerk):
    t0 = db.now()
    for i in range(5):
        fail(db, "zhao", "10.0.0.66", t0 + timedelta(seconds=i))
    assert "后再试" in fail(db, "zhao", "10.0.0.66", t0 + timedelta(seconds=11), PASSWORD)
    auth.unlock_user(db, ADMIN, clerk)
    assert db.scalar("SELECT note FROM audit_log WHERE register = 'users' AND note = '解锁'")
    signed = auth.sign_in(db, "zhao", PASSWORD, "10.0.0.66", now=t0 + timedelta(seconds=11))
    assert signed.failed_attempts == 5  # unlocking does not hide what happened


def test_cli_user_unlock_and_list(tmp_path, capsys):
    from app.cli import main
    from app.storage.db import open_database

    path = str(tmp_path / "w.duckdb")
    assert main(["--db", path, "user", "add", "li", "--role", "维修", "--password", "fix-it-2026"]) == 0
    db = open_database(path)
    try:
        for _ in range(6):
            with pytest.raises(auth.LoginFailed):
                auth.sign_in(db, "li", "wrong-pass1", "10.0.0.66")
    finally:
        db.close()
    capsys.readouterr()
    assert main(["--db", path, "user", "list"]) == 0
    assert "限制登录至" in capsys.readouterr().out
    assert main(["--db", path, "user", "unlock", "li"]) == 0
    assert "已解除 li 的登录限制" in capsys.readouterr().out
    db = open_database(path)
    try:
        assert auth.sign_in(db, "li", "fix-it-2026", "10.0.0.66").failed_attempts == 5
    finally:
        db.close()


def test_an_unknown_name_costs_the_same_argon2_check_as_a_wrong_password(db, clerk, monkeypatch):
    # counted, not timed (a timing ratio is noise on a busy machine): each try runs exactly one
    # argon2 verification with the same parameters, against the user's hash or a dummy one
    real_verify, checked = auth._verify, []

    def counting(password_hash, password):
        checked.append(password_hash)
        return real_verify(password_hash, password)

    monkeypatch.setattr(auth, "_verify", counting)
    with pytest.raises(auth.LoginFailed) as wrong:
        auth.sign_in(db, "zhao", "wrong-pass1")
    with pytest.raises(auth.LoginFailed) as unknown:
        auth.sign_in(db, "nobody", "wrong-pass1")
    zhao_hash = db.scalar("SELECT password_hash FROM users WHERE name = 'zhao'")
    assert checked == [zhao_hash, auth._DUMMY_HASH]
    assert str(wrong.value) == str(unknown.value)
    # the dummy hash costs what a real one does: the same argon2 parameters
    assert auth._DUMMY_HASH.rsplit("$", 2)[0] == zhao_hash.rsplit("$", 2)[0]


# -- the password policy --------------------------------------------------------------------------
@pytest.mark.parametrize("password, rule", [
    ("        ", "只由空格"),
    ("            ", "只由空格"),
    ("\t \n       ", "只由空格"),
    ("passw0rd", "至少 10 位"),
    ("password123", "常见密码"),
    ("1234567890", "常见密码"),
    ("QWERTYUIOP", "常见密码"),
    ("Woaini1314", "常见密码"),
    ("zhao2026abc", "不能包含用户名"),
    ("ZHAO-zhao-1", "不能包含用户名"),
    ("ababababab1", "4 个不同的字符"),
    ("onlyletters", "字母和数字"),
    ("98765432101", "字母和数字"),
])
def test_the_policy_refuses_with_the_rule_named(password, rule):
    with pytest.raises(password_policy.PasswordRejected, match=rule):
        password_policy.check(password, "zhao")


def test_the_policy_accepts_good_passwords_and_ships_its_common_list():
    for good in ("sunny-2026a", "correct horse battery 9", "物业台账2026年度", "Tz7#kq!m2p"):
        password_policy.check(good, "zhao")
    common = password_policy.common_passwords()
    assert len(common) >= 300 and {"passw0rd", "password123", "1234567890", "qwertyuiop"} <= common


def test_the_policy_holds_wherever_a_password_is_set(db, clerk):
    with pytest.raises(auth.PasswordRejected, match="至少 10 位"):
        auth.add_user(db, ADMIN, "qian", "short-1", "财务")
    with pytest.raises(auth.PasswordRejected, match="不能包含用户名"):
        auth.add_user(db, ADMIN, "qian", "qian123456", "财务")
    with pytest.raises(auth.PasswordRejected, match="常见密码"):
        auth.reset_password(db, ADMIN, clerk, "password123")
    signed = auth.sign_in(db, "zhao", PASSWORD)
    with pytest.raises(auth.PasswordRejected, match="不能包含用户名"):
        auth.change_password(db, signed, PASSWORD, "Zhao-2026-new")
    assert db.scalar("SELECT count(*) FROM users") == 1
    for _ in range(50):
        password_policy.check(auth.one_time_password(), "admin")
