"""Forms of the change advisory board pages: a board, a stage of the approval path, a decision."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _l

from palier.changes import board_selectors
from palier.changes.models import ChangeApprovalStage, ChangeBoard, Risk
from palier.lib.web import StyledForm
from palier.people import selectors as people_selectors


class BoardForm(StyledForm):
    name = forms.CharField(label=_l("Name"), max_length=120)
    group = forms.ModelChoiceField(
        label=_l("Members"),
        queryset=people_selectors.groups_by_name(),
        help_text=_l("The group whose members sit on the board."),
    )
    rule = forms.ChoiceField(label=_l("Rule"), choices=ChangeBoard.Rule.choices)
    quorum = forms.IntegerField(
        label=_l("Quorum"),
        required=False,
        min_value=1,
        max_value=100,
        help_text=_l("With a quorum: how many approvals are needed."),
    )
    is_emergency = forms.BooleanField(label=_l("Emergency board"), required=False)

    def __init__(self, *args: Any, board: ChangeBoard | None = None, **kwargs: Any) -> None:
        if board is not None and not args and "data" not in kwargs:
            kwargs["initial"] = {
                "name": board.name,
                "group": board.group_id,
                "rule": board.rule,
                "quorum": board.quorum,
                "is_emergency": board.is_emergency,
            }
        super().__init__(*args, **kwargs)


class StageForm(StyledForm):
    path = forms.ChoiceField(label=_l("Changes"), choices=ChangeApprovalStage.Path.choices)
    board = forms.ModelChoiceField(label=_l("Board"), queryset=board_selectors.boards())
    min_risk = forms.ChoiceField(
        label=_l("From risk"), choices=Risk.choices, help_text=_l("The stage applies to changes at this risk or above.")
    )


class DecisionForm(StyledForm):
    comment = forms.CharField(
        label=_l("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_l("Required to reject: the change's owner reads it."),
    )
