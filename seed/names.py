"""Pools and generators for plausible Chinese people: names, mobile phones, 身份证 numbers.

Everything draws from a `random.Random` passed in, so a fixed seed gives the same people.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from app.registers.validation import ID_CHECK, ID_WEIGHTS

# Common surnames, roughly by frequency (the first ones are drawn more often).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官")
SURNAME_WEIGHTS = tuple(1.0 / (10 + i) for i in range(len(SURNAMES)))

MALE_CHARS = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欣建国志海峰晨亮成东文博毅瑞卫兵"
)
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀玲燕红桂英莉萍婷雪慧琳倩晶颖洁琴云兰梅凤丹瑶怡佳蕾欣悦露雯月"

# 行政区划代码 (GB/T 2260) of districts that exist; mostly Hangzhou, where the demo 小区 are,
# and a share of other provinces for people who moved there.
LOCAL_AREAS = ("330102", "330105", "330106", "330108", "330109", "330110")
OTHER_AREAS = (
    "330302", "330402", "330602", "330702", "331002",  # 温州 嘉兴 绍兴 金华 台州
    "110101", "310104", "320102", "340102", "360102",  # 北京 上海 南京 合肥 南昌
    "410102", "420102", "430102", "510104",  # 郑州 武汉 长沙 成都
)

MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
    "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
    "191", "193", "195", "196", "198", "199",
)


def id_check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of a 身份证号."""
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def id_number(rng: random.Random, born: date, male: bool, area: str | None = None) -> str:
    """An 18-digit 身份证号: area code, birth date, sequence (odd for men), check character."""
    area = area or (rng.choice(LOCAL_AREAS) if rng.random() < 0.7 else rng.choice(OTHER_AREAS))
    seq = rng.randrange(0, 50) * 2 + (1 if male else 0)
    first17 = f"{area}{born:%Y%m%d}{rng.randrange(0, 10)}{seq:02d}"
    return first17 + id_check_char(first17)


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(0, 10**8):08d}"


def surname(rng: random.Random) -> str:
    if rng.random() < 0.01:
        return rng.choice(COMPOUND_SURNAMES)
    return rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]


def given_name(rng: random.Random, male: bool) -> str:
    chars = MALE_CHARS if male else FEMALE_CHARS
    if rng.random() < 0.3:
        return rng.choice(chars)
    return rng.choice(chars) + rng.choice(chars)


def birth_date(rng: random.Random, first_year: int, last_year: int) -> date:
    start = date(first_year, 1, 1)
    return start + timedelta(days=rng.randrange((date(last_year, 12, 31) - start).days + 1))


@dataclass(frozen=True)
class Person:
    name: str
    family_name: str
    male: bool
    born: date
    id_number: str
    phone: str


class People:
    """Makes people whose phone numbers and 身份证号 are unique within one generator."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._phones: set[str] = set()
        self._ids: set[str] = set()

    def phone(self) -> str:
        while True:
            p = mobile(self.rng)
            if p not in self._phones:
                self._phones.add(p)
                return p

    def person(self, first_year: int = 1950, last_year: int = 2000, male: bool | None = None,
               family_name: str | None = None, area: str | None = None) -> Person:
        rng = self.rng
        male = rng.random() < 0.5 if male is None else male
        born = birth_date(rng, max(first_year, 1950), min(last_year, 2000))
        while True:
            number = id_number(rng, born, male, area)
            if number not in self._ids:
                self._ids.add(number)
                break
        family_name = family_name or surname(rng)
        return Person(family_name + given_name(rng, male), family_name, male, born, number,
                      self.phone())
