"""Signed C2PA test images, made here: a local CA, a leaf certificate, small JPEGs.

Nothing is downloaded: the certificates are generated per test session with
``cryptography`` and the images drawn with Pillow.
"""

from __future__ import annotations

import datetime
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

GENERATOR = "remix-lineage-tests"
_AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "remix-lineage tests"),
        ]
    )


def _usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signer,
        crl_sign=not signer,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class LocalSigner:
    """A leaf certificate chain (leaf, then CA) and its private key, PEM."""

    chain: bytes
    key: bytes

    @classmethod
    def generate(cls) -> LocalSigner:
        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = (
            x509.CertificateBuilder()
            .subject_name(_name("remix-lineage test CA"))
            .issuer_name(_name("remix-lineage test CA"))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_usage(signer=False), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        leaf_key = ec.generate_private_key(ec.SECP256R1())
        leaf = (
            x509.CertificateBuilder()
            .subject_name(_name("remix-lineage test signer"))
            .issuer_name(ca.subject)
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(signer=True), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        return cls(
            chain=leaf.public_bytes(pem) + ca.public_bytes(pem),
            key=leaf_key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )

    def sign(self, path: Path, color: str, parent: Path | None = None) -> str:
        """Draw a small JPEG, sign it into ``path`` (``parent`` as its parentOf
        ingredient) and return its active manifest's label."""
        image = io.BytesIO()
        Image.new("RGB", (16, 16), color).save(image, "JPEG")
        image.seek(0)
        action = (
            {"action": "c2pa.created", "digitalSourceType": _AI}
            if parent is None
            else {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}}
        )
        manifest = {
            "claim_generator_info": [{"name": GENERATOR, "version": "1.0"}],
            "title": path.name,
            "format": "image/jpeg",
            "assertions": [{"label": "c2pa.actions", "data": {"actions": [action]}}],
        }
        info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, self.chain, self.key, None)
        with c2pa.Builder(manifest) as builder, c2pa.Signer.from_info(info) as signer:
            if parent is not None:
                with parent.open("rb") as ingredient:
                    builder.add_ingredient(
                        {"title": parent.name, "relationship": "parentOf", "label": "parent"},
                        "image/jpeg",
                        ingredient,
                    )
            with path.open("w+b") as output:
                builder.sign(signer, "image/jpeg", image, output)
        with path.open("rb") as stream, c2pa.Reader("image/jpeg", stream) as reader:
            label = reader.get_active_manifest()["label"]
        assert isinstance(label, str)
        return label


def main(folder: Path) -> None:
    """Sign ``parent.jpg`` and ``child.jpg`` (parentOf: parent) into ``folder`` and
    write ``c2pa.jsonl``: two remixes in the demo tree that carry their labels."""
    folder.mkdir(parents=True, exist_ok=True)
    signer = LocalSigner.generate()
    parent, child = folder / "parent.jpg", folder / "child.jpg"
    parent_label = signer.sign(parent, "orange")
    child_label = signer.sign(child, "purple", parent=parent)
    prompt = "A grandmother chases the giraffe out of her yard with a broom, shaky phone footage"
    records = [
        {
            "id": "giraffe-cam",
            "parent_id": "grandma",
            "prompt": prompt,
            "c2pa_manifest": parent_label,
        },
        {
            "id": "giraffe-cam-night",
            "parent_id": "giraffe-cam",
            "prompt": f"{prompt}, at night",
            "c2pa_manifest": child_label,
        },
    ]
    (folder / "c2pa.jsonl").write_text(
        "".join(json.dumps(record) + "\n" for record in records), encoding="utf-8"
    )
    print(f"{parent}: {parent_label}\n{child}: {child_label}\n{folder / 'c2pa.jsonl'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "c2pa-demo"))
