"""Every status a record moves through, as enums (their values are what the database holds).

The transitions live with the domain that owns them: channels in ``channels.py``, uploads and
publications in ``publishing.py``.

    channel:      creating ──► ready ──► archived      creating ──► waiting_admin ──► ready
                      └──► failed
    upload:       received → previewing → ready | failed        (expired ones are swept)
    publication:  rendering → publishing → published | failed | blocked
                  published → withdrawn | replaced          (from «📢 Мои каналы»)
"""

from __future__ import annotations

from enum import StrEnum


class ChannelStatus(StrEnum):
    CREATING = "creating"
    WAITING_ADMIN = "waiting_admin"
    READY = "ready"
    ARCHIVED = "archived"
    FAILED = "failed"


#: channels that count against a plan and show in «📢 Мои каналы»
ACTIVE_CHANNELS = (ChannelStatus.CREATING, ChannelStatus.WAITING_ADMIN, ChannelStatus.READY)


class UploadStatus(StrEnum):
    RECEIVED = "received"
    PREVIEWING = "previewing"
    READY = "ready"
    FAILED = "failed"


class PublicationStatus(StrEnum):
    RENDERING = "rendering"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    BLOCKED = "blocked"
    WITHDRAWN = "withdrawn"  # its posts deleted from the channel; the record kept
    REPLACED = "replaced"  # a new version published in its place (``replaced_by``)


#: publications whose work is not finished (a restart resumes them)
UNFINISHED_PUBLICATIONS = (PublicationStatus.RENDERING, PublicationStatus.PUBLISHING)
