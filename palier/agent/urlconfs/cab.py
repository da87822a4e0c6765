"""The change advisory board, mounted at /agent/changes/approvals/ as ``cab:``: the boards and
the approval path (administrators), and the decision on a change approval."""

from __future__ import annotations

from django.urls import URLPattern, path

from palier.agent.views import cab

urlpatterns: list[URLPattern] = [
    path("boards/", cab.board_list, name="boards"),
    path("boards/<int:board_id>/", cab.board_list, name="board"),
    path("path/", cab.approval_path, name="path"),
    path("path/<int:stage_id>/move/<str:direction>/", cab.stage_move, name="stage-move"),
    path("path/<int:stage_id>/remove/", cab.stage_remove, name="stage-remove"),
    path("<int:approval_id>/decide/", cab.decide, name="decide"),
]
