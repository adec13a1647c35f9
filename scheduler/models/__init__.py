"""The persistent schema, one module per concept (migrations in scheduler/migrations mirror
it). Importing the package imports every model, so `Base.metadata` holds every table."""

from scheduler.models.api_keys import ApiKey, api_key_clinics
from scheduler.models.base import Base, table
from scheduler.models.checkins import Checkin, CheckinSuggestion
from scheduler.models.clinics import AuditEntry, Clinic, IdempotencyRecord, Patient, Ruleset
from scheduler.models.contacts import PlanContact
from scheduler.models.feeds import CalendarFeed
from scheduler.models.ops import ClinicNightly, SchedulerHeartbeat
from scheduler.models.plans import OPEN_PLAN, DecisionRow, Plan, PlanEvent, Report, Visit
from scheduler.models.staff import (
    StaffAccount,
    StaffLoginFailure,
    WebSecret,
    WebSession,
    staff_clinics,
)
from scheduler.models.webhooks import OutboxEvent, Webhook, WebhookDelivery
from scheduler.models.what_if import WhatIfItem, WhatIfJob

__all__ = [
    "OPEN_PLAN", "ApiKey", "AuditEntry", "Base", "CalendarFeed", "Checkin", "CheckinSuggestion",
    "Clinic", "ClinicNightly", "DecisionRow",
    "IdempotencyRecord", "OutboxEvent", "Patient", "Plan", "PlanContact", "PlanEvent", "Report",
    "Ruleset", "SchedulerHeartbeat", "StaffAccount", "StaffLoginFailure", "Visit", "WebSecret",
    "WebSession", "Webhook", "WebhookDelivery", "WhatIfItem", "WhatIfJob",
    "api_key_clinics", "staff_clinics", "table",
]
