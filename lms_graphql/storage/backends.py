"""Two object stores behind one interface: a local directory (the embedded default, its objects
served by the app itself through signed URLs) and any S3-compatible store (presigned URLs; the
endpoint and credentials from boto3's own environment: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...)."""

from __future__ import annotations

import asyncio
import mimetypes
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from lms_graphql.config import Settings
from lms_graphql.storage.signing import UrlSigner

for _type, _extension in (("text/markdown", ".md"), ("video/mp2t", ".ts"), ("application/vnd.apple.mpegurl", ".m3u8")):
    mimetypes.add_type(_type, _extension)


@dataclass(frozen=True)
class UploadTarget:
    """Where and how the client sends the file: ``method`` to ``url`` with ``headers``."""

    url: str
    method: str
    headers: dict[str, str] = field(default_factory=dict)


class ObjectStore(Protocol):
    kind: str

    def upload_target(self, key: str, content_type: str, size: int, expires_in: int) -> UploadTarget: ...

    def download_url(self, key: str, expires_in: int) -> str: ...

    async def size_of(self, key: str) -> int | None: ...

    async def first_bytes(self, key: str, count: int) -> bytes: ...

    async def read(self, key: str) -> bytes: ...

    async def put_file(self, key: str, source: Path, content_type: str) -> None: ...

    async def get_file(self, key: str, target: Path) -> None: ...

    async def move(self, source: str, target: str) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def delete_prefix(self, prefix: str) -> int: ...

    async def keys_under(self, prefix: str) -> list[str]: ...


@dataclass(frozen=True)
class Storage:
    """The store, and what signs the URLs this server serves itself (local files, playlists)."""

    store: ObjectStore
    signer: UrlSigner


def content_type_of(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


class LocalStore:
    """Objects as files under ``root``; the app serves them at /files/{key} (file_routes.py)."""

    kind = "local"

    def __init__(self, root: Path, signer: UrlSigner) -> None:
        self.root = root
        self.signer = signer

    def path_of(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()) or not key or key.endswith("/"):
            raise ValueError(f"not an object key: {key!r}")
        return path

    def upload_target(self, key: str, content_type: str, size: int, expires_in: int) -> UploadTarget:
        url = self.signer.url("PUT", key, expires_in, type=content_type, size=size)
        return UploadTarget(url, "PUT", {"Content-Type": content_type})

    def download_url(self, key: str, expires_in: int) -> str:
        return self.signer.url("GET", key, expires_in)

    async def size_of(self, key: str) -> int | None:
        path = self.path_of(key)
        return path.stat().st_size if path.is_file() else None

    async def first_bytes(self, key: str, count: int) -> bytes:
        with self.path_of(key).open("rb") as stream:
            return stream.read(count)

    async def read(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path_of(key).read_bytes)

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        target = self.path_of(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        await asyncio.to_thread(shutil.copyfile, source, partial)
        os.replace(partial, target)

    async def get_file(self, key: str, target: Path) -> None:
        await asyncio.to_thread(shutil.copyfile, self.path_of(key), target)

    async def move(self, source: str, target: str) -> None:
        destination = self.path_of(target)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path_of(source), destination)

    async def delete(self, key: str) -> None:
        self.path_of(key).unlink(missing_ok=True)

    async def delete_prefix(self, prefix: str) -> int:
        if not prefix.endswith("/"):
            raise ValueError("a prefix ends with /")
        folder = (self.root / prefix).resolve()
        if not folder.is_relative_to(self.root.resolve()) or not folder.is_dir():
            return 0
        count = sum(1 for path in folder.rglob("*") if path.is_file())
        await asyncio.to_thread(shutil.rmtree, folder)
        return count

    async def keys_under(self, prefix: str) -> list[str]:
        """Every object's key under ``prefix`` (a folder), in key order."""
        if not prefix.endswith("/"):
            raise ValueError("a prefix ends with /")
        root = self.root.resolve()
        folder = (self.root / prefix).resolve()
        if not folder.is_relative_to(root) or not folder.is_dir():
            return []
        found = [path for path in folder.rglob("*") if path.is_file() and not path.name.endswith(".part")]
        return sorted(path.relative_to(root).as_posix() for path in found)


class S3Store:
    """A bucket (and a key prefix in it) of an S3-compatible store."""

    kind = "s3"
    DELETE_BATCH = 1000  # DeleteObjects takes at most this many keys

    def __init__(self, bucket: str, prefix: str, client: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.client = client

    @classmethod
    def from_url(cls, url: str) -> S3Store:
        import boto3
        from botocore.config import Config

        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError("LMS_STORAGE_URL must look like s3://bucket/prefix")
        prefix = parts.path.strip("/")
        client = boto3.client("s3", config=Config(signature_version="s3v4", retries={"mode": "standard"}))
        return cls(parts.netloc, f"{prefix}/" if prefix else "", client)

    def _key(self, key: str) -> str:
        return self.prefix + key

    def upload_target(self, key: str, content_type: str, size: int, expires_in: int) -> UploadTarget:
        # Content-Type and Content-Length are signed: the store refuses another type or size.
        params = {"Bucket": self.bucket, "Key": self._key(key), "ContentType": content_type, "ContentLength": size}
        url = self.client.generate_presigned_url("put_object", Params=params, ExpiresIn=expires_in)
        return UploadTarget(url, "PUT", {"Content-Type": content_type})

    def download_url(self, key: str, expires_in: int) -> str:
        params = {"Bucket": self.bucket, "Key": self._key(key)}
        url: str = self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
        return url

    async def size_of(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = await asyncio.to_thread(self.client.head_object, Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(head["ContentLength"])

    async def first_bytes(self, key: str, count: int) -> bytes:
        answer = await asyncio.to_thread(
            self.client.get_object, Bucket=self.bucket, Key=self._key(key), Range=f"bytes=0-{count - 1}"
        )
        body: bytes = await asyncio.to_thread(answer["Body"].read)
        return body

    async def read(self, key: str) -> bytes:
        answer = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=self._key(key))
        body: bytes = await asyncio.to_thread(answer["Body"].read)
        return body

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        extra = {"ContentType": content_type}
        await asyncio.to_thread(self.client.upload_file, str(source), self.bucket, self._key(key), ExtraArgs=extra)

    async def get_file(self, key: str, target: Path) -> None:
        await asyncio.to_thread(self.client.download_file, self.bucket, self._key(key), str(target))

    async def move(self, source: str, target: str) -> None:
        copied = {"Bucket": self.bucket, "Key": self._key(source)}
        await asyncio.to_thread(self.client.copy_object, Bucket=self.bucket, Key=self._key(target), CopySource=copied)
        await self.delete(source)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=self._key(key))

    async def delete_prefix(self, prefix: str) -> int:
        if not prefix.endswith("/"):
            raise ValueError("a prefix ends with /")
        return await asyncio.to_thread(self._delete_prefix, self._key(prefix))

    async def keys_under(self, prefix: str) -> list[str]:
        if not prefix.endswith("/"):
            raise ValueError("a prefix ends with /")
        return await asyncio.to_thread(self._keys_under, self._key(prefix))

    def _keys_under(self, prefix: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        found = [item["Key"][len(self.prefix) :] for page in pages for item in page.get("Contents", [])]
        return sorted(found)

    def _delete_prefix(self, prefix: str) -> int:
        deleted = 0
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            for start in range(0, len(keys), self.DELETE_BATCH):
                batch = keys[start : start + self.DELETE_BATCH]
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
                deleted += len(batch)
        return deleted


def storage_for(settings: Settings) -> Storage:
    """LMS_STORAGE_URL's store, or files under the data directory; the storage secret that
    signs this server's own URLs is read (or generated) when the first one is made."""
    signer = UrlSigner(lambda: settings.storage_secret)
    url = settings.storage_url
    store: ObjectStore = S3Store.from_url(url) if url else LocalStore(settings.data_dir / "objects", signer)
    return Storage(store, signer)
