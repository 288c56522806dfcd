"""`spm slack`: run the Slack bot over Socket Mode or HTTP (Events API + interactivity + `/spm`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from interfaces.common import handles_errors, settings

if TYPE_CHECKING:
    from interfaces.settings import Settings


def identifier(warehouse, unknown_user: str):
    """Slack user id -> warehouse user; unknown ids get `unknown_user` ('deny': None, else that user)."""
    from warehouse.errors import NotFoundError
    from warehouse.users import find_user

    fallback = None if unknown_user == "deny" else find_user(warehouse, unknown_user)  # fail at start-up if wrong

    def identify(slack_user: str):
        if not slack_user:
            return fallback
        try:
            return find_user(warehouse, slack_user)
        except NotFoundError:
            return fallback

    return identify


EVERY_INTERFACE = frozenset({"0.0.0.0", "::", ""})


@dataclass(frozen=True)
class ListenAddress:
    """Where the HTTP-mode bot listens, and how to say so at start-up."""

    host: str
    port: int

    def describe(self, port: int | None = None) -> str:
        where = (
            "every network interface: let only Slack reach it (a reverse proxy with TLS, a firewall)"
            if self.host in EVERY_INTERFACE
            else "this machine only: put a reverse proxy with TLS in front"
            if self.host in ("127.0.0.1", "localhost", "::1")
            else f"the interface {self.host}"
        )
        return (
            f"Slack bot listening on http://{self.host}:{port or self.port}/slack/events ({where}; "
            "SPM_SLACK_HOST / --host change it). Ctrl-C stops it."
        )


def listen_address(settings: Settings, host: str | None = None, port: int | None = None) -> ListenAddress:
    """The command-line options, else SPM_SLACK_HOST / SPM_SLACK_PORT (default 127.0.0.1:3000: a
    bot reachable from the network is a choice the deployment makes, never a default)."""
    return ListenAddress(
        host if host is not None else settings.slack_host, port if port is not None else settings.slack_port
    )


@handles_errors
def slack(
    ctx: typer.Context,
    socket: bool = typer.Option(
        False, "--socket", help="Socket Mode (SLACK_APP_TOKEN + SLACK_BOT_TOKEN); the default."
    ),
    http: bool = typer.Option(False, "--http", help="HTTP mode (SLACK_SIGNING_SECRET + SLACK_BOT_TOKEN)."),
    port: int | None = typer.Option(
        None,
        "--port",
        min=1,
        max=65535,
        show_default=False,
        help="HTTP mode: port to listen on (default: SPM_SLACK_PORT, else 3000).",
    ),
    host: str | None = typer.Option(
        None,
        "--host",
        show_default=False,
        help="HTTP mode: interface to listen on (default: SPM_SLACK_HOST, else 127.0.0.1, this machine only; "
        "0.0.0.0 is every interface).",
    ),
) -> None:
    """Run the Slack bot: mentions, direct messages and /spm, answered in threads."""
    from interfaces.ask_cli import agent_for
    from interfaces.output import err
    from interfaces.slack_app import SlackBot, build_app, serve_http
    from warehouse.errors import InputError

    if socket and http:
        raise InputError("Choose --socket or --http, not both.")
    s = settings()
    if s.slack_bot_token is None:
        raise InputError("SLACK_BOT_TOKEN is not set.", "Set it to the app's Bot User OAuth Token (xoxb-...).")
    if http and s.slack_signing_secret is None:
        raise InputError(
            "HTTP mode needs SLACK_SIGNING_SECRET.", "Set it to the app's Signing Secret (Basic Information page)."
        )
    if not http and s.slack_app_token is None:
        raise InputError(
            "Socket Mode needs SLACK_APP_TOKEN.",
            "Create an app-level token with connections:write (xapp-...), or run with --http.",
        )
    agent = agent_for(ctx)
    bot = SlackBot(agent, identifier(agent.warehouse, s.slack_unknown_user))
    app = build_app(
        bot,
        bot_token=s.slack_bot_token.get_secret_value(),
        signing_secret=s.slack_signing_secret.get_secret_value() if http and s.slack_signing_secret else None,
        api_url=s.slack_api_url,
        workers=s.slack_workers,
    )
    if http:
        address = listen_address(s, host, port)
        server = serve_http(app, address.host, address.port)
        err().print(address.describe(server.server_port), markup=False)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            server.shutdown()
    else:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        err().print("Slack bot connected over Socket Mode (Ctrl-C stops it)")
        SocketModeHandler(app, s.slack_app_token.get_secret_value()).start()  # type: ignore[union-attr]
