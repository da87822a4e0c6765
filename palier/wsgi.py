import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")
application = get_wsgi_application()
# What start-up built (modules, settings, URL patterns, translations) lives as long as the process:
# move it out of the garbage collector's reach, so its full passes, every few requests, scan only
# what requests create (about 130 ms less on the worst of a big page's requests; docs/performance.md)
gc.freeze()
