"""How clips are signed: the certificate chain and key, and an optional timestamp authority.

`clipcrew/` fills this from Settings (CLIPCREW_C2PA_CERT, CLIPCREW_C2PA_KEY,
CLIPCREW_C2PA_TSA_URL) and the data folder; the engine never reads settings itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProvenanceConfig:
    # PEM: the signing certificate first, then its intermediates (the operator's own chain).
    cert_chain: Path | None = None
    # PEM private key of the signing certificate.
    key: Path | None = None
    # Where clipcrew keeps its own CA and signing certificate, made on first use, when no chain
    # and key are given (the data folder's `c2pa/`). None and no chain: clips are not signed.
    own_ca_dir: Path | None = None
    # An RFC 3161 timestamp authority; nothing is fetched from one unless this is set.
    tsa_url: str | None = None

    @property
    def signs(self) -> bool:
        return (self.cert_chain is not None and self.key is not None) or (
            self.own_ca_dir is not None
        )
