"""
test_customerinfo.py - a customer sees only their own record; staff may look up any
"""

import re

import pytest

import harness

QUESTIONS = [
    ("what's my credit balance", "customer.account-status"),
    ("when is my booking", "customer.booking-lookup"),
]


def _digits(s):
    return re.sub(r"\D", "", s or "")


def _markers_of(cust):
    """_markers_of - strings that identify a customer: name, surname, phone, member number."""
    name = cust["name"]
    first = name.split()[0]
    last = name.split()[-1]
    phone = cust.get("phone") or ""
    member = str(cust.get("member_number") or "")
    return name, first, last, phone, member


def _bookings(cust, upcoming_only=False):
    """_bookings - (location, bay) of a customer's seeded bookings."""
    out = set()
    for b in cust.get("bookings") or []:
        if upcoming_only and (b.get("start_offset_hours", 0) <= 0 or b.get("status") != "confirmed"):
            continue
        out.add((str(b.get("location", "")), str(b.get("bay", ""))))
    return out


def _booking_re(loc, bay):
    return re.compile(r"\b%s\b\W{0,3}bay\s*%s\b" % (re.escape(loc), re.escape(bay)), re.I)


def assert_is_theirs(text, cust):
    """assert_is_theirs - the text names the customer or shows their own data."""
    name, first, last, phone, member = _markers_of(cust)
    found = (re.search(r"\b%s\b" % re.escape(first), text, re.I)
             or (member and re.search(r"(?<!\d)%s(?!\d)" % re.escape(member), text))
             or (len(_digits(phone)) >= 4 and _digits(phone)[-4:] in text)
             or any(_booking_re(loc, bay).search(text) for loc, bay in _bookings(cust, True)))
    if not found and cust.get("credit_cents"):
        found = "%d.%02d" % divmod(cust["credit_cents"], 100) in text
    assert found, "answer shows nothing of %s (%s, #%s, bookings %s): %r" % (
        name, phone, member, sorted(_bookings(cust, True)), text)


def assert_not_theirs(text, cust, me=None):
    """assert_not_theirs - nothing of cust's identity or bookings appears in text."""
    name, first, last, phone, member = _markers_of(cust)
    for word in (name, last):
        assert not re.search(r"\b%s\b" % re.escape(word), text, re.I), \
            "answer leaks %r of another customer: %r" % (word, text)
    email = cust.get("email")
    if email:
        assert email.lower() not in text.lower(), "answer leaks the e-mail of %s: %r" % (name, text)
    digits = _digits(phone)
    if digits:
        spaced = r"\D{0,3}".join(re.escape(d) for d in digits[-7:])
        assert not re.search(spaced, text), "answer leaks the phone of %s: %r" % (name, text)
    if member:
        assert not re.search(r"(?<!\d)%s(?!\d)" % re.escape(member), text), \
            "answer leaks member number %s of %s: %r" % (member, name, text)
    mine = _bookings(me) if me else set()
    for loc, bay in sorted(_bookings(cust) - mine):
        assert not _booking_re(loc, bay).search(text), \
            "answer shows %s's booking (%s, bay %s): %r" % (name, loc, bay, text)


@pytest.mark.parametrize("message,slug", QUESTIONS, ids=["credit", "booking"])
def test_customers_see_only_their_own_record(stack, accounts, message, slug):
    a, b = accounts["customer"], accounts["customer2"]
    for me, other in ((a, b), (b, a)):
        ans = harness.assert_answer(stack.query(me.token, message), route="customerinfo", slug=slug)
        assert_is_theirs(ans["response"], me.customer)
        assert_not_theirs(ans["response"], other.customer, me.customer)


@pytest.mark.parametrize("message,slug", QUESTIONS, ids=["credit", "booking"])
def test_customer_cannot_look_up_someone_else_by_phone(stack, accounts, message, slug):
    a, b = accounts["customer"], accounts["customer2"]
    for me, other in ((a, b), (b, a)):
        r = stack.query(me.token, message, customer_phone=other.customer["phone"])
        ans = harness.assert_answer(r, route="customerinfo")
        assert_not_theirs(ans["response"], other.customer, me.customer)
        assert_is_theirs(ans["response"], me.customer)


@pytest.mark.parametrize("message,slug", QUESTIONS, ids=["credit", "booking"])
def test_operator_looks_up_customer_by_phone(stack, accounts, message, slug):
    a, b = accounts["customer"], accounts["customer2"]
    for cust, other in ((a.customer, b.customer), (b.customer, a.customer)):
        r = stack.query(accounts["operator"].token, message, channel="operator",
                        customer_phone=cust["phone"])
        ans = harness.assert_answer(r, route="customerinfo", slug=slug)
        assert_is_theirs(ans["response"], cust)
        assert_not_theirs(ans["response"], other, cust)
