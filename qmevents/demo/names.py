"""Names for made-up citizens (the demo, tests, benchmarks): plausible, distinct, and names by
services.identity.normalise_name's rule, which refuses digits ("市民0001" is not a name)."""
from __future__ import annotations

DEMO_PREFIX = "演示·"  # the demo's registrants are obviously made up: 演示·王伟
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红春梅琳晨雪宇浩轩欣怡然佳琪"


def person_name(n: int) -> str:
    """The n-th name (n ≥ 0): two characters for the first 1,640 (41 surnames × 40), then
    three; distinct for the first 65,600."""
    surname, given = SURNAMES[n % len(SURNAMES)], GIVEN[(n // len(SURNAMES)) % len(GIVEN)]
    pairs = len(SURNAMES) * len(GIVEN)
    if n < pairs:
        return surname + given
    return surname + given + GIVEN[(n // pairs) % len(GIVEN)]
