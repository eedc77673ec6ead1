"""
conftest.py - fixtures of the end-to-end suite

One stack (PostgreSQL, Redis, router, seven assistants, gateway) for the
whole session; the users every test needs, created once through the API;
and a hook that appends the tail of every daemon's log to a failed test's
report, so a failure can be read without re-running.
"""

import atexit
import os
import uuid

import pytest

import harness

_STACK = None


@pytest.fixture(scope="session")
def stack():
    """stack - the running system; stopped (SIGTERM, then SIGKILL) at the end of the session."""
    global _STACK
    s = harness.Stack()
    _STACK = s
    atexit.register(s.stop)     # also when the session ends abnormally
    try:
        s.start()
    except BaseException:
        print("\n" + s.log_tails(60))
        s.stop()
        if not os.environ.get("CLUBOS_E2E_KEEP"):
            s.cleanup()
        raise
    yield s
    s.stop()
    if not os.environ.get("CLUBOS_E2E_KEEP"):
        s.cleanup()
    else:
        print("\nkept logs in %s" % s.logs)


class Account:
    """Account - a user of the running system and its token."""

    def __init__(self, role, email, password, token, uid=None, customer=None):
        self.role, self.email, self.password = role, email, password
        self.token, self.id, self.customer = token, uid, customer

    def __repr__(self):
        return "<%s %s>" % (self.role, self.email)


def _create_user(stack, admin_token, role, name, phone=None):
    email = "%s-%s@e2e.clubos.test" % (role, uuid.uuid4().hex[:8])
    password = "pw-" + uuid.uuid4().hex
    body = {"email": email, "password": password, "role": role, "name": name}
    if phone is not None:
        body["phone"] = phone
    r = stack.http("POST", "/api/users", body=body, token=admin_token)
    assert r.status in (200, 201), "creating %s user failed: %r" % (role, r)
    token = stack.login(email, password)
    return Account(role, email, password, token, r.json.get("id"))


@pytest.fixture(scope="session")
def customers():
    """customers - two seeded customers: Sarah Mendez and another one."""
    seeded = harness.load_seed_customers()
    sarah = [c for c in seeded if c["name"] == "Sarah Mendez"]
    assert sarah, "deploy/seed/customers.json has no Sarah Mendez"
    other = [c for c in seeded if c["name"] != "Sarah Mendez" and c.get("phone")
             and c.get("phone") != sarah[0].get("phone")]
    assert other, "deploy/seed/customers.json needs a second customer with a phone"
    return sarah[0], other[0]


@pytest.fixture(scope="session")
def accounts(stack, customers):
    """accounts - admin, operator, support, kiosk and two customers linked to seeded records."""
    admin_token = stack.login(harness.ADMIN_EMAIL, harness.ADMIN_PASSWORD)
    admin = Account("admin", harness.ADMIN_EMAIL, harness.ADMIN_PASSWORD, admin_token,
                    harness.jwt_claims(admin_token).get("sub"))
    acc = {"admin": admin}
    for role in ("operator", "support", "kiosk"):
        acc[role] = _create_user(stack, admin_token, role, "E2E " + role.title())
    for key, cust in zip(("customer", "customer2"), customers):
        a = _create_user(stack, admin_token, "customer", cust["name"], phone=cust["phone"])
        a.customer = cust
        acc[key] = a
    return acc


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and _STACK is not None:
        rep.sections.append(("daemon logs (tails, %s)" % _STACK.logs, _STACK.log_tails()))
