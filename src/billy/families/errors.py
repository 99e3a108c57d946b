"""The errors of family accounts' membership, shared by `membership` and `passport`."""

from __future__ import annotations

from billy.core.errors import BillyError


class FamilyNotFound(BillyError):
    code = "family_not_found"
    default_message = "No family account with this id."


class MemberNotFound(BillyError):
    code = "member_not_found"
    default_message = "The user is not a member of this family."


class NotOwner(BillyError):
    code = "not_owner"
    default_message = "Only the family's owner may do this."


class AlreadyInFamily(BillyError):
    code = "already_in_family"
    default_message = "The user is already in a family."


class FamilyFull(BillyError):
    code = "family_full"
    default_message = "The family holds as many members as it may."


class StaleRevision(BillyError):
    code = "stale_revision"
    default_message = "The family account changed since this revision."


class IdentityProviderUnavailable(BillyError):
    code = "identity_unavailable"
    default_message = "The identity provider, which holds this family's members, is unavailable; retry later."


class IdentityAccountRequired(BillyError):
    code = "identity_account_required"
    default_message = "The user needs a full (portal) account at the identity provider."
