"""The closures of the scale data set, as the closure operations leave them: each with the card's
snapshot, its audit entries (closed, reinstated, erased) and the pending requests (seed_scale).

A mixin of :class:`bench.scale.load.Loader`, which holds the plan (``stories``, ``pending``), the
cards' ``snapshots``, the users and the reasons' weights.
"""

import json

from closures.models import Closure, ClosureRequest
from crm.models import ERASED_MARKER as ERASED
from crm.models import AuditEntry
from customers.models import Customer

from . import vocab
from .pgcopy import esc, local_day, ts
from .plan import DAY, status_of


class ClosureRows:
    def closures(self, cursor) -> None:
        """Closures in time order, with the card's snapshot, audit entries and pending requests."""
        rng, rnd = self.rng, self.rng.random
        events = sorted(
            (when, cid, action, reverted) for cid, s in self.stories.items() for when, action, reverted in s.events
        )
        closure_copier, audit_copier = self.copier(cursor, Closure), self.copier(cursor, AuditEntry)
        closures, audits = [], []
        for closure_id, (when, cid, action, reverted) in enumerate(events, 1):
            story = self.stories[cid]
            segment, owner, balance, points, created = self.snapshots[cid]
            ids, cum = self.reason_choice[action]
            reason = self.reason_by_id[rng.choices(ids, cum_weights=cum)[0]]
            notes = ""
            if reason.requires_notes or rnd() < 0.35:
                notes = rng.choice(vocab.NOTES.get(reason.category, vocab.NOTES["other"]))
            settlement = rng.choice(vocab.SETTLEMENT_NOTES) if balance != "0.00" or points else ""
            performer = rng.choice(self.admin_ids if action == "erase" else self.staff_ids + self.manager_ids)
            reverter = rng.choice(self.manager_ids) if reverted else None
            revert_note = rng.choice(vocab.REVERT_NOTES) if reverted else ""
            duplicate_of = ""
            if reason.category == "duplicate" and rnd() < 0.8:
                duplicate_of = str(max(1, cid - rng.randrange(1, 5000)))
            # Erasure wipes every note on the card's closures, and redacts them in its audit entries.
            kept = (lambda text: "") if story.erased else esc
            redacted = (lambda text: ERASED if text else "") if story.erased else esc
            row = {
                "id": str(closure_id),
                "customer_id": str(cid),
                "action": action,
                "reason_id": str(reason.pk),
                "category": reason.category,
                "notes": kept(notes),
                "duplicate_of_id": duplicate_of or r"\N",
                "previous_status": Customer.Status.ACTIVE,
                "balance_at_closure": balance,
                "points_at_closure": str(points),
                "settlement_note": kept(settlement),
                "segment": segment,
                "owner_id": str(owner) if owner else r"\N",
                "card_owner_id": str(owner) if owner else r"\N",  # the seed's cards keep their owners
                "tenure_days": str(max(0, (when - created) // DAY)),
                "customer_since": local_day(created),  # the card's, as the operations copy it
                "performed_by_id": str(performer),
                "performed_at": ts(when),
                "requested_by_id": r"\N",
                "nonce": f"seed-{closure_id}",
                "reverted_at": ts(reverted) if reverted else r"\N",
                "reverted_by_id": str(reverter) if reverter else r"\N",
                "revert_note": kept(revert_note),
                "customer_erased": "t" if story.erased else "f",
            }
            closures.append(closure_copier.line(row))
            status = status_of(action)
            entry = self.audit(len(audits) + 1, when, performer, f"closure.{action}", closure_id, cid, reason)
            entry.update(changes=json.dumps({"status": ["active", status]}), notes=redacted(notes))
            audits.append(audit_copier.line(entry))
            if reverted:
                entry = self.audit(len(audits) + 1, reverted, reverter, "closure.reinstate", closure_id, cid, reason)
                entry.update(changes=json.dumps({"status": [status, "active"]}), notes=redacted(revert_note))
                audits.append(audit_copier.line(entry))
            if story.erased and action != "erase" and not reverted:  # closed first, personal data deleted later
                admin = rng.choice(self.admin_ids)
                entry = self.audit(len(audits) + 1, story.erased_at, admin, "closure.erase", closure_id, cid, reason)
                entry.update(changes=json.dumps({"status": [status, "erased"]}))
                audits.append(audit_copier.line(entry))
        closure_copier.write(closures)
        audit_copier.write(audits)
        requests = self.copier(cursor, ClosureRequest)
        request_lines = []
        for request_id, cid in enumerate(sorted(self.pending), 1):
            ids, cum = self.reason_choice["close"]
            reason = self.reason_by_id[rng.choices(ids, cum_weights=cum)[0]]
            _segment, _owner, balance, points, _created = self.snapshots[cid]
            request_lines.append(
                requests.line(
                    {
                        "id": str(request_id),
                        "customer_id": str(cid),
                        "action": "close",
                        "reason_id": str(reason.pk),
                        "notes": rng.choice(vocab.NOTES.get(reason.category, vocab.NOTES["other"])),
                        "duplicate_of_id": r"\N",
                        "requested_by_id": str(rng.choice(self.staff_ids)),
                        "requested_at": ts(self.now - rng.randrange(60, 14 * DAY)),
                        "state": ClosureRequest.State.PENDING,
                        "decided_by_id": r"\N",
                        "decided_at": r"\N",
                        "closure_id": r"\N",
                        "nonce": r"\N",
                        "balance_seen": balance,
                        "points_seen": str(points),
                    }
                )
            )
        requests.write(request_lines)
        self.say(
            f"closures {closure_copier.rows:,}, audit entries {audit_copier.rows:,}, pending requests {requests.rows}"
        )

    def audit(self, pk, when, actor, action, closure_id, cid, reason) -> dict:
        """An audit entry as the closure operations write it (crm.audit.record): data, not words."""
        return {
            "id": str(pk),
            "at": ts(when),
            "actor_id": str(actor),
            "actor_name": self.usernames[actor],
            "ip": r"\N",
            "action": action,
            "object_type": "closure",
            "object_id": str(closure_id),
            "customer_id": str(cid),
            "summary": "",
            "changes": "{}",
            "data": json.dumps({"reason": reason.pk}),
        }
