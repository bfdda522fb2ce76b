"""S3-compatible storage (AWS S3, MinIO, Ceph, R2, ...) behind worker.storage's interface. Torch-free.

Selected with STORAGE=s3, so API and workers on different machines share uploads, previews and results:
  S3_BUCKET              the bucket (required; created beforehand)
  S3_ENDPOINT_URL        for a non-AWS server, e.g. http://minio:9000 (empty: AWS)
  S3_PUBLIC_ENDPOINT_URL the same server as clients reach it, used only to sign result links (default: the above)
  S3_REGION              e.g. eu-west-1 (empty: boto3's default chain)
  S3_PREFIX              key prefix, so several deployments can share one bucket
  S3_ADDRESSING_STYLE    auto | path | virtual (MinIO usually wants path)
  AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or any other credential source boto3 knows (instance role, ...)

Keys are the same server-made keys the local backend uses ("uploads/<job>/content.png"), under S3_PREFIX.
`url(key)` gives a presigned GET link so the API can redirect a client to a result instead of streaming it.
"""
from __future__ import annotations

import mimetypes
from typing import BinaryIO, Optional

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from worker import settings
from worker.storage import Storage, check_key

MISSING = {"404", "NoSuchKey", "NotFound"}


def _env(name: str) -> Optional[str]:
    return getattr(settings.get(), name) or None


def _client(endpoint: Optional[str]):
    style = settings.get().S3_ADDRESSING_STYLE
    config = Config(signature_version="s3v4", s3={"addressing_style": style},
                    retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30)
    return boto3.client("s3", endpoint_url=endpoint, region_name=_env("S3_REGION"), config=config)


class S3Storage(Storage):
    batch = 1000  # DeleteObjects takes at most this many keys per call

    def __init__(self, root: Optional[str] = None, *, bucket: Optional[str] = None, prefix: Optional[str] = None):
        # root (the local media directory) is part of the backend signature; objects live in the bucket instead.
        self.bucket = bucket or _env("S3_BUCKET")
        if not self.bucket:
            raise ValueError("STORAGE=s3 needs S3_BUCKET (and S3_ENDPOINT_URL for a non-AWS server)")
        self.prefix = (prefix if prefix is not None else _env("S3_PREFIX") or "").strip("/")
        self.client = _client(_env("S3_ENDPOINT_URL"))
        public = _env("S3_PUBLIC_ENDPOINT_URL")
        self.signer = _client(public) if public else self.client

    def _key(self, key: str) -> str:
        key = check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _unkey(self, name: str) -> str:
        return name[len(self.prefix) + 1:] if self.prefix else name

    def put(self, key, data):
        ctype = mimetypes.guess_type(key)[0] or "application/octet-stream"
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=ctype)

    def open(self, key) -> BinaryIO:
        """A streaming body (read/iter_chunks/close): the object is never held in memory whole."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in MISSING:
                raise FileNotFoundError(key) from None
            raise

    def get(self, key):
        with self.open(key) as body:
            return body.read()

    def delete(self, key):
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))  # S3 treats a missing key as success

    def exists(self, key):
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in MISSING:
                return False
            raise

    def _list(self, prefix: str):
        # "uploads/ab" must not match "uploads/abc/...": list the folder, not the string prefix.
        folder = self._key(prefix.strip("/")) + "/" if prefix.strip("/") else (self.prefix + "/" if self.prefix else "")
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=folder):
            yield from page.get("Contents", [])

    def older_than(self, prefix, ts):
        return [self._unkey(o["Key"]) for o in self._list(prefix) if o["LastModified"].timestamp() < ts]

    def delete_prefix(self, prefix):
        names = [o["Key"] for o in self._list(prefix)]
        for i in range(0, len(names), self.batch):
            self.client.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": n} for n in names[i:i + self.batch]], "Quiet": True})

    def url(self, key: str, expires: int = 300, filename: Optional[str] = None) -> str:
        """A presigned GET link valid for `expires` seconds (the API redirects clients to it)."""
        params = {"Bucket": self.bucket, "Key": self._key(key)}
        if filename:
            params["ResponseContentDisposition"] = f'inline; filename="{filename}"'
        return self.signer.generate_presigned_url("get_object", Params=params, ExpiresIn=int(expires))
