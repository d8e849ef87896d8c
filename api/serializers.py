"""What the API's resources look like: one serializer per resource, read by the views and the schema."""

from __future__ import annotations

from rest_framework import serializers

from closures.models import ClosureReason


class ReasonSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True, help_text="In the request's language (Accept-Language).")
    actions = serializers.SerializerMethodField(help_text="The closure actions this reason may be chosen for.")

    class Meta:
        model = ClosureReason
        fields = ["code", "label", "label_en", "label_zh", "category", "actions", "is_active", "notes_required"]

    def get_actions(self, reason) -> list[str]:
        return [action for action in ("close", "void", "archive", "erase") if reason.applies_to(action)]
