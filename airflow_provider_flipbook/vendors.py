"""The provider's vendors, declared once: one :class:`Vendor` line each in :data:`VENDORS`.

Everything else that needs the list reads it from here: the hook lookup (``hooks.hook_for``), the
connection extras and forms (``connection_extras``), the provider info Airflow reads
(``get_provider_info``), ``flipbook-doctor`` and the tests. What a vendor's API does stays in its own
modules (``hooks/<vendor>.py``, ``sandbox/<vendor>/``, the doctor's checks); this file holds only
what must be known without importing them: Airflow reads the provider info, and so this module,
before it imports any hook. So: no imports beyond the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

PACKAGE = "airflow_provider_flipbook"
KIND_NAMES = {float: "a number", int: "an integer", str: "text", bool: "true or false"}


@dataclass(frozen=True)
class Extra:
    """One connection extra: its name, type, default and help; ``form`` puts it in the UI form."""

    name: str
    kind: type
    default: Any
    help: str
    label: str = ""
    choices: tuple[str, ...] = ()
    form: bool = False
    example: Any = None  # the form's suggestion where there is no default

    def parse(self, raw: Any, conn_id: str) -> Any:
        """Read the extra's value from a connection's JSON, typed; ``ValueError`` naming it if unusable.

        :param raw: the value as the connection's extras hold it (missing, ``null`` and blank: the default)
        :param conn_id: the connection's id, for the message
        """
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return self.default
        value = raw.strip() if isinstance(raw, str) else raw
        try:
            if self.kind is bool:
                if isinstance(value, bool):
                    return value
                if str(value).lower() in ("true", "1", "yes", "on"):
                    return True
                if str(value).lower() in ("false", "0", "no", "off"):
                    return False
                raise ValueError(value)
            typed = self.kind(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"Connection {conn_id!r}: extra {self.name!r} must be {KIND_NAMES[self.kind]}, got {raw!r}"
            ) from None
        if self.choices and str(typed).lower() not in self.choices:
            raise ValueError(
                f"Connection {conn_id!r}: extra {self.name!r} must be one of {', '.join(self.choices)}, got {raw!r}"
            )
        return str(typed).lower() if self.choices else typed


@dataclass(frozen=True)
class Form:
    """How the connection form shows the standard fields (``ui-field-behaviour``)."""

    hidden: tuple[str, ...]
    relabeling: Mapping[str, str]
    placeholders: Mapping[str, str]


@dataclass(frozen=True)
class Vendor:
    """One vendor: its connection type and everything the provider must know without its hook."""

    conn_type: str
    name: str  # the integration's and the hook's display name
    hook: str  # dotted path of the hook class
    docs_url: str
    publishing: bool  # the hook implements hooks.publishing.PublishingHook (uploads, conversion waits)
    form: Form
    doctor: str  # dotted path of the module holding the vendor's flipbook-doctor checks
    extras: tuple[Extra, ...] = ()  # the vendor's own extras; every vendor also reads the transport's
    # Further modules Airflow lists under this vendor's integration, by provider-info section
    # ("notifications" and "extra-links": classes).
    modules: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    plugins: Mapping[str, str] = field(default_factory=dict)  # Airflow plugins: name -> class path

    @property
    def hook_module(self) -> str:
        """The module that defines the vendor's hook."""
        return self.hook.rpartition(".")[0]


_FLIPPINGBOOK = Vendor(
    conn_type="flippingbook",
    name="FlippingBook Online",
    hook=f"{PACKAGE}.hooks.flippingbook.FlippingBookHook",
    docs_url="https://apidocs.flippingbook.com/",
    publishing=True,
    form=Form(
        hidden=("schema", "login", "port"),
        relabeling={"password": "API key", "host": "API base URL (optional)"},
        placeholders={"host": "https://api-tc.is.flippingbook.com", "password": "FlippingBook API key"},
    ),
    doctor=f"{PACKAGE}.doctor.flippingbook",
    extras=(
        Extra(
            "webhook_token",
            str,
            None,
            "The secret last segment of this connection's webhook receiver URL (32+ characters); "
            "unset: no receiver.",
        ),
        Extra(
            "webhook_asset",
            str,
            None,
            "Name of the asset the webhook receiver records events to; unset: flippingbook_webhooks.<conn id>.",
        ),
    ),
    # The generic publishing operator, sensor and trigger serve every publishing vendor; Airflow wants
    # one integration per module, and they came with FlippingBook first.
    modules={
        "operators": (f"{PACKAGE}.operators.upload", f"{PACKAGE}.operators.flippingbook"),
        "sensors": (f"{PACKAGE}.sensors.conversion",),
        "triggers": (
            f"{PACKAGE}.triggers.conversion",
            f"{PACKAGE}.triggers.watchers",
            f"{PACKAGE}.triggers.flippingbook",
        ),
    },
    plugins={"flipbook_webhooks": f"{PACKAGE}.plugins.flippingbook.FlipbookWebhooksPlugin"},
)

_FLIPSNACK = Vendor(
    conn_type="flipsnack",
    name="Flipsnack",
    hook=f"{PACKAGE}.hooks.flipsnack.FlipsnackHook",
    docs_url="https://developers.flipsnack.com/",
    publishing=True,
    form=Form(
        hidden=("schema", "port"),
        relabeling={"login": "API key", "password": "API secret", "host": "API base URL (optional)"},
        placeholders={
            "host": "https://api.flipsnack.com",
            "login": "Flipsnack API key",
            "password": "Flipsnack API secret key",
            "upload_host": "https://upload.flipsnack.com",
        },
    ),
    doctor=f"{PACKAGE}.doctor.flipsnack",
    extras=(
        Extra(
            "upload_host",
            str,
            None,
            "Host of collection.create uploads. Unset: derived from the host (api.example.com gives "
            "upload.example.com; the sandbox's .../flipsnack gives .../flipsnack-upload); any other "
            "host needs it.",
            "Upload host",
            form=True,
            example="https://upload.flipsnack.com",
        ),
        Extra(
            "processing_poll_interval",
            float,
            10.0,
            "Seconds between tries of a call refused while the collection converts (code 38).",
        ),
        Extra(
            "processing_timeout",
            float,
            3600.0,
            "Give up waiting for a converting collection after this many seconds.",
        ),
        Extra(
            "list_page_size",
            int,
            1000,
            "Collections per collection.getList request (the vendor documents no size; "
            "flipbook-doctor checks that a page of this size is not cut shorter).",
        ),
    ),
    modules={"sensors": (f"{PACKAGE}.sensors.flipsnack",), "triggers": (f"{PACKAGE}.triggers.flipsnack",)},
)

_IPAPER = Vendor(
    conn_type="ipaper",
    name="iPaper",
    hook=f"{PACKAGE}.hooks.ipaper.IPaperHook",
    docs_url="https://docs.ipaper.io/",
    publishing=True,
    form=Form(
        hidden=("schema", "port"),
        relabeling={
            "login": "User e-mail or APIKey",
            "password": "Password or API key",
            "host": "API base URL (optional)",
        },
        placeholders={
            "host": "https://ipaper.api.ipapercms.dk",
            "login": "APIKey",
            "viewer_base_url": "https://<account>.ipapercms.dk",
        },
    ),
    doctor=f"{PACKAGE}.doctor.ipaper",
    extras=(
        Extra(
            "viewer_base_url",
            str,
            "",
            "Your iPaper viewer's address, put before a paper's path (/demos/21/); iPaper's API gives "
            "only the path. Unset: tasks show no flipbook link.",
            "Viewer base URL",
            form=True,
            example="https://<account>.ipapercms.dk",
        ),
        Extra(
            "root_paper_id",
            int,
            None,
            "The account's top category; looked up as the paper at URL / when unset.",
            "Root category id",
            form=True,
        ),
        Extra(
            "credential_fields",
            str,
            "all",
            "Which form fields carry the login: all, pl or plain.",
            "Credential fields",
            choices=("all", "pl", "plain"),
            form=True,
        ),
        Extra(
            "processing_appear_timeout",
            float,
            300.0,
            "Seconds after which a GUID-less upload that changed nothing counts as failed.",
        ),
    ),
    modules={"triggers": (f"{PACKAGE}.triggers.ipaper",)},
)

_PAPYRS = Vendor(
    conn_type="papyrs",
    name="Papyrs",
    hook=f"{PACKAGE}.hooks.papyrs.PapyrsHook",
    docs_url="https://about.papyrs.com/@docs/API",
    publishing=False,
    form=Form(
        hidden=("schema", "login", "port"),
        relabeling={"host": "Site URL", "password": "API token"},
        placeholders={"host": "https://<site>.papyrs.com", "password": "Papyrs API token", "subsite": "home"},
    ),
    doctor=f"{PACKAGE}.doctor.papyrs",
    extras=(
        Extra(
            "subsite",
            str,
            "home",
            "Subsite of page calls; site-wide calls leave it out.",
            "Subsite",
            form=True,
        ),
        Extra(
            "page_folder_field",
            str,
            "category",
            "How a new page's folder is sent (undocumented): category (the folder path) or folder_id.",
            choices=("category", "folder_id"),
        ),
    ),
    modules={
        "operators": (f"{PACKAGE}.operators.papyrs",),
        "notifications": (f"{PACKAGE}.notifications.papyrs.PapyrsNotifier",),
        "extra-links": (f"{PACKAGE}.operators.papyrs.OpenPapyrsPageLink",),
    },
)

# Connection type -> vendor. Read at call time everywhere, so a test may add a vendor of its own
# (``monkeypatch.setitem(VENDORS, ...)``) and every consumer sees it.
VENDORS: dict[str, Vendor] = {v.conn_type: v for v in (_FLIPPINGBOOK, _FLIPSNACK, _IPAPER, _PAPYRS)}


def vendor(conn_type: str) -> Vendor:
    """Return the vendor of a connection type; ``ValueError`` naming the known ones otherwise.

    :param conn_type: an Airflow connection type
    """
    if conn_type not in VENDORS:
        raise ValueError(f"connection type {conn_type!r} is not one of {sorted(VENDORS)}")
    return VENDORS[conn_type]


def publishing_types() -> tuple[str, ...]:
    """Return the connection types whose hooks implement the publishing protocol."""
    return tuple(conn_type for conn_type, spec in VENDORS.items() if spec.publishing)
