"""Knowledge-base reader (home, articles, votes, files, deflection), mounted at /kb/ as ``kb:``."""

from django.urls import path

from palier.portal.views import kb as reader

urlpatterns = [
    path("", reader.home, name="home"),
    path("articles/<int:article_id>/", reader.article, name="article"),
    path("articles/<int:article_id>/vote/", reader.vote, name="vote"),
    path("articles/<int:article_id>/solved/", reader.deflect, name="deflect"),
    path("files/<int:file_id>/", reader.file, name="file"),
    path("suggest/", reader.suggest, name="suggest"),
]
