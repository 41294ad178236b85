"""`cited keys …` and `cited users …`: who may read what."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cli.errors import CommandError
from cli.options import DataDirOption, settings_for, split_list

keys_app = typer.Typer(help="API keys for the HTTP API (used when CITED_AUTH=true).", no_args_is_help=True)
users_app = typer.Typer(help="Page users for the /ui login (when CITED_AUTH=true).", no_args_is_help=True)


@keys_app.command("add")
def keys_add(
    name: Annotated[str, typer.Argument(help="Who or what the key is for, e.g. 'finance-dashboard'.")],
    groups: Annotated[str, typer.Option(help="Comma-separated groups whose documents it reads.")],
    scopes: Annotated[str, typer.Option(help="Comma-separated: ask, ingest, admin.")] = "ask",
    data_dir: DataDirOption = None,
) -> None:
    """Create a key. It is printed once; only its SHA-256 digest is stored."""
    from cited.access.keys import KeyRequestError, KeyStore
    from cited.database.engine import open_database

    store = KeyStore(open_database(settings_for(data_dir)))
    try:
        record, secret = store.add(name, split_list(groups), split_list(scopes))
    except KeyRequestError as exc:
        raise CommandError(str(exc)) from exc
    typer.echo(secret)
    typer.secho(
        f"key {record.id} for {record.name}: groups {list(record.groups)}, scopes {list(record.scopes)}. "
        "Store it now: it cannot be shown again.",
        err=True,
    )


@keys_app.command("list")
def keys_list(data_dir: DataDirOption = None) -> None:
    """Every key's id, name, groups, scopes and state (never the key itself)."""
    from cited.access.keys import KeyStore
    from cited.database.engine import open_database

    for k in KeyStore(open_database(settings_for(data_dir))).all():
        state = f"revoked {k.revoked}" if k.revoked else "active"
        typer.echo(f"{k.id}  {k.name}  groups={','.join(k.groups)}  scopes={','.join(k.scopes)}  {state}")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The id from `cited keys list`.")],
    data_dir: DataDirOption = None,
) -> None:
    """Revoke a key; a running server refuses it from its next request."""
    from cited.access.keys import KeyRequestError, KeyStore
    from cited.database.engine import open_database

    try:
        record = KeyStore(open_database(settings_for(data_dir))).revoke(key_id)
    except KeyRequestError as exc:
        raise CommandError(str(exc)) from exc
    typer.echo(f"revoked {record.id} ({record.name})")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The login name.")],
    groups: Annotated[str, typer.Option(help="Comma-separated groups whose documents the user reads.")],
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input.")] = False,
    can_upload: Annotated[
        bool, typer.Option("--can-upload", help="Let the user add and replace documents from the page.")
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Create or replace a page user; the password is asked for (or read from stdin) and stored hashed."""
    from cited.access.users import UserRequestError, UserStore
    from cited.database.engine import open_database

    settings = settings_for(data_dir)
    if settings.sso:  # the two sign-ins never mix: a page user would be refused at the door
        raise CommandError(
            "page users are not used with single sign-on (CITED_OIDC_ISSUER is set): people sign in "
            "with the identity provider, and their groups come from it (docs/deploying.md)"
        )
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    try:
        user = UserStore(open_database(settings)).add(name, password, split_list(groups), can_upload)
    except UserRequestError as exc:
        raise CommandError(str(exc)) from exc
    typer.echo(f"user {user.name}: groups {list(user.groups)}{' (can upload)' if user.can_upload else ''}")


@users_app.command("list")
def users_list(data_dir: DataDirOption = None) -> None:
    """Every page user and their groups."""
    from cited.access.users import UserStore
    from cited.database.engine import open_database

    for u in UserStore(open_database(settings_for(data_dir))).users():
        upload = "  can upload" if u.can_upload else ""
        typer.echo(f"{u.name}  groups={','.join(u.groups)}{upload}  created {u.created}")


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="The login name.")], data_dir: DataDirOption = None
) -> None:
    """Remove a page user; their next question is refused."""
    from cited.access.users import UserRequestError, UserStore
    from cited.database.engine import open_database

    try:
        UserStore(open_database(settings_for(data_dir))).remove(name)
    except UserRequestError as exc:
        raise CommandError(str(exc)) from exc
    typer.echo(f"removed {name}")
