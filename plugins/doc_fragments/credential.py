# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # Rotation and retirement of a credential: sp_credential's options, and service_principals' defaults of every
    # credential entry, with the same meanings (module_utils/inputs.py CREDENTIAL_DEFAULTS, with verify).
    DOCUMENTATION = r'''
options:
  rotate_before_days:
    description:
      - Rotate (create a new credential, then revoke the old one) when the live credential expires within
        this many days. V(0) never rotates for age. An expired credential is always replaced.
    type: int
    default: 0
  force_rotate:
    description: Rotate now, whatever the expiry.
    type: bool
    default: false
  revoke_previous:
    description:
      - Revoke the replaced credential (and older ones of the same name) after a rotation.
      - V(false) keeps them alive for a zero-downtime overlap; a later run with V(true) revokes them.
    type: bool
    default: true
  revoke_previous_after_unused_hours:
    description:
      - With O(revoke_previous=true), revoke an older credential of the same name only once it has gone unused
        for this many hours (never used, or last used longer ago), or once the newer one is O(max_overlap_days)
        old. Until then it is kept and named in C(kept_ids), with a reason in C(kept_reasons), in the credential's
        result; a later run decides again, so a scheduled job retires old credentials as their consumers move.
      - Unset, older credentials are revoked at once. Ages are judged on the server's clock (the C(Date) of
        its answers). ConductorOne only (Orkes access keys record no use).
    type: int
  max_overlap_days:
    description:
      - With O(revoke_previous_after_unused_hours), an older credential is revoked anyway, used or not, once
        the newer one is this many days old.
    type: int
    default: 7
  replace_on_change:
    description:
      - Replace the credential when a setting the API cannot change in place differs, instead of failing.
    type: bool
    default: false
'''

    # The proof of a new secret: the modules that create credentials (sp_credential, personal_client,
    # service_principals), which take it with store (module_utils/common_args.py store_options).
    VERIFY = r'''
options:
  verify:
    description:
      - Prove that a newly created secret obtains an access token before any previous credential is revoked.
      - When the proof fails, the new credential is revoked, its store entry is put back as it was, the previous
        credential stays live, and the task fails.
    type: bool
    default: false
'''
