import os

from django.core.wsgi import get_wsgi_application

from palier.lib.gctune import tune_after_start_up

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")
application = get_wsgi_application()
# start-up done: its objects leave the garbage collector's reach, and collections run less often
# (palier/lib/gctune.py: the slowest requests of big pages)
tune_after_start_up()
