"""The contact log's pure parts: which snooze holds on a day, and how a contact names its
author (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from scheduler.services.contacts import CHANNELS, OUTCOMES, actor_label
from scheduler.services.plan_views import DO_NOT_CONTACT, effective_snooze
from scheduler.services.plans import FLAGS
from scheduler.services.proposals import STORED_FLAGS

ON = date(2026, 11, 4)


@pytest.mark.parametrize(("rule_23", "contact", "held"), [
    (None, None, None),
    (date(2026, 11, 6), None, date(2026, 11, 6)),
    (None, date(2026, 11, 4), date(2026, 11, 4)),
    (date(2026, 11, 6), date(2026, 11, 10), date(2026, 11, 10)),
    (date(2026, 11, 10), date(2026, 11, 6), date(2026, 11, 10)),
    (date(2026, 11, 3), date(2026, 11, 5), date(2026, 11, 5)),
    (date(2026, 11, 3), date(2026, 11, 1), None),
], ids=["no-snooze", "rule-23-only", "contact-snooze-ends-today-still-holds",
        "contact-later-than-rule-23", "rule-23-later-than-contact",
        "rule-23-ended-contact-holds", "both-ended"])
def test_the_later_snooze_still_in_force_holds(rule_23, contact, held):
    assert effective_snooze(ON, rule_23, contact) == held


def test_a_contact_names_the_person_before_the_key():
    assert actor_label("key_1", "staff:41") == "staff:41"
    assert actor_label("key_1", None) == "key_1"
    assert actor_label(None, None) is None


def test_the_vocabularies_are_the_contracts():
    assert CHANNELS == ("phone", "sms", "email", "in_person")
    assert OUTCOMES == ("reached", "left_message", "no_answer", "booked", "declined",
                        "do_not_contact")
    assert DO_NOT_CONTACT in FLAGS and DO_NOT_CONTACT in STORED_FLAGS
