"""Routes of the agent workspace (queue, ticket page, search, log a call), mounted by ``urls.py``."""

from django.urls import path

from palier.agent.views import calls, exports, merge, queue, search, ticket_assets, tickets

urlpatterns = [
    path("", queue.ticket_list, name="ticket-list"),
    path("bulk/", queue.ticket_bulk, name="ticket-bulk"),
    path("bulk/merge/", merge.queue_merge, name="ticket-bulk-merge"),
    path("queue/take/<int:ticket_id>/", queue.queue_take, name="queue-take"),
    path("queue/density/", queue.queue_density, name="queue-density"),
    path("queue/count/", queue.queue_count, name="queue-count"),
    path("views/save/", queue.filter_save, name="filter-save"),
    path("views/<int:filter_id>/delete/", queue.filter_delete, name="filter-delete"),
    path("export/<slug:fmt>/", exports.ticket_export, name="ticket-export"),
    path("exports/<int:job_id>/", exports.export_job, name="export-job"),
    path("exports/<int:job_id>/download/", exports.export_download, name="export-download"),
    path("search/", search.search, name="search"),
    path("calls/new/", calls.call_new, name="call-new"),
    path("calls/callers/", calls.caller_search, name="call-callers"),
    path("tickets/<int:ticket_id>/", tickets.ticket_detail, name="ticket-detail"),
    path("tickets/<int:ticket_id>/reply/", tickets.ticket_reply, name="ticket-reply"),
    path("tickets/<int:ticket_id>/status/", tickets.ticket_edit, {"field": "status"}, name="ticket-status"),
    path("tickets/<int:ticket_id>/edit/<slug:field>/", tickets.ticket_edit, name="ticket-edit"),
    path("tickets/<int:ticket_id>/take/", tickets.ticket_take, name="ticket-take"),
    path("tickets/<int:ticket_id>/merge/", merge.ticket_merge, name="ticket-merge"),
    path("tickets/<int:ticket_id>/unmerge/", merge.ticket_unmerge, name="ticket-unmerge"),
    path("tickets/<int:ticket_id>/split/", merge.ticket_split, name="ticket-split"),
    path("tickets/<int:ticket_id>/presence/", tickets.ticket_presence, name="ticket-presence"),
    path("tickets/<int:ticket_id>/draft/", tickets.ticket_draft, name="ticket-draft"),
    path("tickets/<int:ticket_id>/assets/link/", ticket_assets.ticket_asset_link, name="ticket-asset-link"),
    path(
        "tickets/<int:ticket_id>/assets/<int:asset_id>/unlink/",
        ticket_assets.ticket_asset_unlink,
        name="ticket-asset-unlink",
    ),
]
