"""Who may use each service import/export route: Admins only (service.export_tickets,
service.import_tickets). The world's tickets come from service_transfer_world.py."""

from .routes import ADMINS, Route

ROUTES = [
    Route("service:export", ADMINS, query="format=csv"),
    Route("service:export", ADMINS, query="format=xlsx&status=new&view=overdue&q=S2026-000001&opened_from=x"),
    Route("service:import", ADMINS),
    Route("service:import", ADMINS, method="POST", data=lambda w: {}),
    Route("service:import_template", ADMINS, kwargs=lambda w: {"fmt": "csv"}),
    Route("service:import_template", ADMINS, kwargs=lambda w: {"fmt": "xlsx"}),
    Route("service:import_confirm", ADMINS, method="POST", data=lambda w: {"upload": "0" * 32}, ok=(302,)),
    Route("service:import_marked", ADMINS, kwargs=lambda w: {"upload_id": "0" * 32}, ok=(404,)),
]
