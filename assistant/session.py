"""Open the store and an Assistant over it: what the CLI's commands and the app share."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from assistant.errors import StoreError
from assistant.settings import Settings, load_settings

if TYPE_CHECKING:
    from assistant.answer import Assistant

log = logging.getLogger(__name__)


def where(settings: Settings) -> str:
    """The store in words: a Chroma server or a folder."""
    return f"the Chroma server {settings.chroma_host}" if settings.chroma_host else f"the store {settings.store_dir}"


def empty_store_message(settings: Settings) -> str:
    """What to do when no article is indexed: the command that indexes one into this store."""
    if settings.chroma_host:
        target = f" --chroma-host {settings.chroma_host}"
    else:  # the default store (or ASSISTANT_STORE's) needs no option
        target = "" if settings.store_dir == load_settings().store_dir else f" --store {settings.store_dir}"
    return (f"no article is indexed in {where(settings)}; index one first with "
            f"'on-the-record index PATH...{target}' (files or folders of .txt, .md or .html articles)")


def open_assistant(settings: Settings, progress: bool = True, require_documents: bool = True) -> Assistant:
    """An Assistant over the store; the seeds, when there is a seeds folder, are indexed first if the store
    lacks them. StoreError when the store is empty and require_documents is set."""
    from assistant.answer import Assistant
    from assistant.indexing import ensure_index
    from assistant.store import Store

    store = Store(settings)
    if settings.seeds_dir is not None:
        ensure_index(store, settings.seeds_dir, progress=progress)
    if not store.documents():
        if require_documents:
            raise StoreError(empty_store_message(settings))
        log.warning("%s", empty_store_message(settings))
    return Assistant(store)
