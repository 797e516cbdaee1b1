from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """LangBot's paths have no trailing slash; clients that add one are served too."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"
