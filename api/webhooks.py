"""Webhooks: a clinic's subscriptions (secret shown once), their deliveries log, enabling,
secret rotation and replay of failed deliveries."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api import auth, idempotency
from api.auth import requires
from api.blueprint import Blueprint
from api.context import cadence
from api.schemas import PageQuery, StrictSchema, page_payload, page_schema
from scheduler.services import webhook_operations as operations
from scheduler.services import webhooks as service
from scheduler.services.api_keys import Role
from scheduler.services.webhooks import EVENT_TYPES

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks",
                description="Webhook subscriptions and deliveries (Standard Webhooks)")

ROLES = (Role.ADMIN, Role.BOOKING_SYSTEM)


class WebhookIn(StrictSchema):
    clinic_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                     validate=validate.Length(max=2048),
                     metadata={"description": "https, its host resolving to public addresses "
                                              "only (checked now and before every attempt); "
                                              "plain http and private addresses only with "
                                              "WEBHOOK_ALLOW_PRIVATE_NETWORKS. Redirects are "
                                              "not followed."})
    events = fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)), required=True,
                         validate=validate.Length(min=1, max=len(EVENT_TYPES)))


class WebhookPatch(StrictSchema):
    enabled = fields.Boolean(required=True, metadata={
        "description": "true re-enables a disabled subscription (its waiting deliveries "
                       "resume in order); false disables it"})


class ReplayIn(StrictSchema):
    since = fields.AwareDateTime(required=True, metadata={
        "description": "Failed deliveries created at or after this instant are sent again"})


class WebhookQuery(PageQuery):
    clinic_id = fields.String(load_default=None, validate=validate.Length(min=1, max=40))


class DeliveryQuery(PageQuery):
    status = fields.String(load_default=None, validate=validate.OneOf(service.DELIVERY_STATUSES))


class WebhookOut(Schema):
    id = fields.String()
    clinic_id = fields.String()
    url = fields.String()
    events = fields.List(fields.String())
    created_at = fields.AwareDateTime()
    enabled = fields.Boolean(metadata={"description": "false: nothing is sent (410 Gone, "
                                                      "failing too long, or by hand)"})
    disabled_at = fields.AwareDateTime(allow_none=True)
    disabled_reason = fields.String(allow_none=True)
    failing_since = fields.AwareDateTime(allow_none=True, metadata={
        "description": "First failed attempt since the last success"})


class CreatedWebhookOut(WebhookOut):
    secret = fields.String(metadata={"description": "whsec_...: shown only in this response"})


class RotatedSecretOut(WebhookOut):
    secret = fields.String(metadata={"description": "The new whsec_...: shown only here"})
    previous_secret_expires_at = fields.AwareDateTime(metadata={
        "description": "Until then every message carries both signatures"})


class ReplayOut(Schema):
    replayed = fields.Integer(metadata={"description": "Failed deliveries queued again"})


class DeliveryOut(Schema):
    id = fields.String()
    event_id = fields.String(metadata={"description": "The webhook-id header of every attempt"})
    event_type = fields.String()
    plan_id = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "pending | in_flight | succeeded | failed"})
    attempts = fields.Integer()
    last_attempt_at = fields.AwareDateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    next_attempt_at = fields.AwareDateTime(allow_none=True,
                                           metadata={"description": "Next retry, if any"})
    delivered_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


WebhookPage = page_schema(WebhookOut, "WebhookPage")
DeliveryPage = page_schema(DeliveryOut, "DeliveryPage")


@blp.route("")
class Webhooks(MethodView):
    @requires(*ROLES)
    @blp.arguments(WebhookIn)
    @blp.response(201, CreatedWebhookOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Subscribe a URL to a clinic's events; the signing secret is in this response only."""
        wiring = cadence()
        created = service.create_webhook(
            wiring.uow(), **data, actor=auth.actor(), now=wiring.now(), scope=auth.scope(),
            allow_private=wiring.settings.webhook_allow_private_networks)
        idempotency.carries_secret(created.webhook.id)
        body = {**asdict(created.webhook), "secret": created.secret}
        return body, 201, {"Location": f"{blp.url_prefix}/{created.webhook.id}",
                           "Cache-Control": "no-store"}

    @requires(*ROLES)
    @blp.arguments(WebhookQuery, location="query")
    @blp.response(200, WebhookPage)
    def get(self, query: dict[str, Any]) -> Any:
        """List the subscriptions of this key's clinics."""
        return page_payload(service.list_webhooks(cadence().uow(), scope=auth.scope(), **query))


@blp.route("/<webhook_id>")
class WebhookById(MethodView):
    @requires(*ROLES)
    @blp.arguments(WebhookPatch)
    @blp.response(200, WebhookOut)
    def patch(self, data: dict[str, Any], webhook_id: str) -> Any:
        """Enable or disable a subscription; enabling resumes its backlog in order."""
        wiring = cadence()
        return asdict(operations.set_enabled(wiring.uow(), webhook_id, enabled=data["enabled"],
                                             actor=auth.actor(), now=wiring.now(),
                                             scope=auth.scope()))

    @requires(*ROLES)
    @blp.response(204)
    def delete(self, webhook_id: str) -> Any:
        """Unsubscribe at once; deliveries still waiting are marked failed."""
        wiring = cadence()
        service.delete_webhook(wiring.uow(), webhook_id, actor=auth.actor(), now=wiring.now(),
                               scope=auth.scope())
        return None


@blp.route("/<webhook_id>/deliveries")
class Deliveries(MethodView):
    @requires(*ROLES)
    @blp.arguments(DeliveryQuery, location="query")
    @blp.response(200, DeliveryPage)
    def get(self, query: dict[str, Any], webhook_id: str) -> Any:
        """Deliveries of a subscription, oldest first: attempts, status codes, next retry."""
        return page_payload(service.list_deliveries(cadence().uow(), webhook_id,
                                                    scope=auth.scope(), **query))


@blp.route("/<webhook_id>/rotate-secret")
class RotateSecret(MethodView):
    @requires(*ROLES)
    @blp.response(200, RotatedSecretOut, headers={"Cache-Control": {
        "description": "`no-store`: the body holds a secret", "schema": {"type": "string"}}})
    def post(self, webhook_id: str) -> Any:
        """A new signing secret (shown only here); for 24 h messages carry a signature with
        each secret, so the receiver can switch without an outage."""
        wiring = cadence()
        rotated = operations.rotate_secret(wiring.uow(), webhook_id, actor=auth.actor(),
                                           now=wiring.now(), scope=auth.scope())
        idempotency.carries_secret(webhook_id)
        body = {**asdict(rotated.webhook), "secret": rotated.secret,
                "previous_secret_expires_at": rotated.previous_expires_at}
        return body, 200, {"Cache-Control": "no-store"}


@blp.route("/<webhook_id>/replay")
class Replay(MethodView):
    @requires(*ROLES)
    @blp.arguments(ReplayIn)
    @blp.response(202, ReplayOut)
    def post(self, data: dict[str, Any], webhook_id: str) -> Any:
        """Send again the subscription's failed deliveries since `since` (in plan order)."""
        wiring = cadence()
        count = operations.replay_failed(wiring.uow(), webhook_id, since=data["since"],
                                         actor=auth.actor(), now=wiring.now(),
                                         scope=auth.scope())
        return {"replayed": count}, 202
