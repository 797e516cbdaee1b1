"""The server-less Celery broker of the laptop setup: kombu's filesystem transport, made safe for concurrent use.

kombu writes a message straight into the queue folder, so a worker polling the folder can pick up a file that is
still empty and crash decoding it (the message is lost). Here a message is written under a name the consumer
ignores and renamed into place once complete: a rename is atomic, so readers only ever see whole messages.
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"  # "<id>.<queue>.msg.part" does not match the "<queue>.msg" the consumer looks for
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
