"""An advertiser's brand kit: the facts copy may rest on, read from a folder named in the accounts file.

A kit folder holds
- `brand_guide.yaml`, or `brand_guide.md` with the same fields as YAML front matter and prose after it: the
  brand's name, tone, words to use and to avoid, the claims the advertiser may make, each with its proof, and
  the competitors' names that copy must never hold;
- a Google Merchant Center product feed, `feed.tsv` (tab-separated, the feed's own column names) or `feed.xml`
  (RSS 2.0 with the `g:` namespace): id, title, description, link, price, sale_price, availability, brand,
  product_type;
- landing pages saved as HTML under `pages/`. Their main text is extracted with trafilatura (Apache-2.0),
  which drops navigation, footers and scripts.

Everything is cut into numbered chunks (`doc`, `chunk`) that copy cites as its sources. Kit text is the
advertiser's, but landing pages may quote strangers (reviews): it is data for the writer, never instructions.
Errors name the file, and the line or field, that is wrong.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Literal, Protocol, runtime_checkable

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ads.errors import ConfigurationError

GUIDE_FILES = ("brand_guide.yaml", "brand_guide.yml", "brand_guide.md")
FEED_FILES = ("feed.tsv", "feed.xml")
PAGES_DIR = "pages"
FEED_COLUMNS = ("id", "title", "description", "price")  # required; the rest are optional
MAX_KIT_FILE_BYTES = 5_000_000
_PRICE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Z]{3})\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class Claim(BaseModel):
    """A claim the advertiser may make ("Easy 60-day returns"), with what proves it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim: Text
    proof: Text


class BrandGuide(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    brand: Text
    tone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    words_to_use: tuple[Text, ...] = ()
    words_to_avoid: tuple[Text, ...] = ()
    claims: tuple[Claim, ...] = ()
    competitors: tuple[Text, ...] = Field(default=(), description="Other companies' names copy must never hold.")


class Product(BaseModel):
    """One feed item. Prices are integers in the currency's minor units (cents), as the feed's "249.00 USD" is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Text
    title: Text
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] = ""
    link: str = ""
    price: int = Field(ge=0)
    sale_price: int | None = Field(default=None, ge=0)
    currency: str = "USD"
    availability: str = ""
    brand: str = ""
    product_type: str = ""

    @property
    def on_sale(self) -> bool:
        return self.sale_price is not None and self.sale_price < self.price


ChunkKind = Literal["claim", "guide", "product", "page"]


class Chunk(BaseModel):
    """A piece of the kit that copy can cite: `doc` is the file, `chunk` its number in that file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    doc: str
    chunk: int
    kind: ChunkKind
    text: str
    product_id: str | None = None
    proven: bool = False  # a guide claim with its proof: the only text that may carry a superlative


class BrandKit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    guide: BrandGuide
    products: tuple[Product, ...] = ()
    chunks: tuple[Chunk, ...] = ()
    digest: str = Field(description="sha256 of the kit's files: its index is rebuilt only when they change.")

    def chunk(self, doc: str, number: int) -> Chunk | None:
        return next((c for c in self.chunks if c.doc == doc and c.chunk == number), None)


@runtime_checkable
class BrandKitHolder(Protocol):
    """An account that carries its own kit's files (sandbox accounts, generated with one)."""

    def brand_kit_files(self) -> dict[str, bytes]: ...


def read_kit_folder(folder: Path) -> dict[str, bytes]:
    """The kit's files under `folder`, by their path relative to it."""
    if not folder.is_dir():
        raise ConfigurationError(f"{folder}: the brand kit folder does not exist")
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.stat().st_size > MAX_KIT_FILE_BYTES:
            raise ConfigurationError(f"{path}: larger than {MAX_KIT_FILE_BYTES:,} bytes; not a brand kit file")
        files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


def load_brand_kit(folder: Path) -> BrandKit:
    return parse_brand_kit(read_kit_folder(folder), where=str(folder))


def parse_brand_kit(files: Mapping[str, bytes], *, where: str) -> BrandKit:
    """The kit in `files` (relative path -> content). `where` names the kit in error messages."""
    guide_name = next((name for name in GUIDE_FILES if name in files), None)
    if guide_name is None:
        raise ConfigurationError(f"{where}: the brand kit has no brand guide ({' or '.join(GUIDE_FILES)})")
    guide, prose = _guide(guide_name, _text(files[guide_name], f"{where}/{guide_name}"), where)
    about = ". ".join(t for t in (guide.brand, guide.tone) if t)
    chunks: list[Chunk] = [Chunk(doc=guide_name, chunk=0, kind="guide", text=about)]
    chunks += [
        Chunk(doc=guide_name, chunk=1 + i, kind="claim", text=f"{c.claim}. {c.proof}", proven=True)
        for i, c in enumerate(guide.claims)
    ]
    chunks += [Chunk(doc=guide_name, chunk=len(chunks) + i, kind="guide", text=t) for i, t in enumerate(prose)]
    products: tuple[Product, ...] = ()
    if feed_name := next((name for name in FEED_FILES if name in files), None):
        products = _feed(feed_name, files[feed_name], f"{where}/{feed_name}")
        chunks += [
            Chunk(doc=feed_name, chunk=i, kind="product", text=product_text(p), product_id=p.id)
            for i, p in enumerate(products)
        ]
    for name in sorted(n for n in files if n.startswith(f"{PAGES_DIR}/") and n.endswith((".html", ".htm"))):
        paragraphs = page_paragraphs(_text(files[name], f"{where}/{name}"))
        chunks += [Chunk(doc=name, chunk=i, kind="page", text=text) for i, text in enumerate(paragraphs)]
    digest = hashlib.sha256(b"".join(n.encode() + b"\0" + files[n] for n in sorted(files))).hexdigest()
    return BrandKit(guide=guide, products=products, chunks=tuple(chunks), digest=digest)


def product_text(product: Product) -> str:
    """A product as one chunk: what it is, what it costs, what the feed says of it."""
    price = f"Price {product.price / 100:.2f} {product.currency}"
    if product.on_sale and product.sale_price is not None:
        price += f", sale price {product.sale_price / 100:.2f} {product.currency}"
    parts = [product.title, product.product_type.replace(">", "/"), price, product.availability.replace("_", " ")]
    return ". ".join(p.strip() for p in [*parts, product.description] if p and p.strip())


def page_paragraphs(html: str) -> list[str]:
    """A saved landing page's main text, one entry per paragraph, boilerplate removed."""
    import trafilatura  # lxml-based; imported only when a kit is read

    text = trafilatura.extract(html, include_comments=False, include_tables=False, favor_recall=True) or ""
    return [line.strip() for line in text.splitlines() if len(line.strip()) > 2]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _text(content: bytes, where: str) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigurationError(f"{where}: byte {error.start}: not UTF-8 text") from None


def _guide(name: str, text: str, where: str) -> tuple[BrandGuide, list[str]]:
    prose: list[str] = []
    if name.endswith(".md"):
        head, sep, body = text.removeprefix("---\n").partition("\n---\n")
        if not text.startswith("---\n") or not sep:
            raise ConfigurationError(f"{where}/{name}: line 1: expected YAML front matter between '---' lines")
        text = head
        prose = [p for block in body.split("\n\n") if (p := " ".join(block.strip().lstrip("#").split()))]
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark else ""
        raise ConfigurationError(f"{where}/{name}: {line}not valid YAML") from None
    try:
        return BrandGuide.model_validate(data), prose
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "guide"
        raise ConfigurationError(f"{where}/{name}: {field}: {first['msg']}") from None


def _feed(name: str, content: bytes, where: str) -> tuple[Product, ...]:
    rows = _xml_rows(content, where) if name.endswith(".xml") else _tsv_rows(content, where)
    products = []
    seen: set[str] = set()
    for label, row in rows:
        missing = [c for c in FEED_COLUMNS if not row.get(c)]
        if missing:
            raise ConfigurationError(f"{where}: {label}: {missing[0]}: missing")
        price, currency = _price(row["price"], f"{where}: {label}: price")
        sale = _price(row["sale_price"], f"{where}: {label}: sale_price") if row.get("sale_price") else None
        if sale is not None and sale[1] != currency:
            raise ConfigurationError(f"{where}: {label}: sale_price: currency {sale[1]} is not the price's {currency}")
        try:
            product = Product(
                id=row["id"],
                title=row["title"],
                description=row.get("description", ""),
                link=row.get("link", ""),
                price=price,
                sale_price=sale[0] if sale else None,
                currency=currency,
                availability=row.get("availability", ""),
                brand=row.get("brand", ""),
                product_type=row.get("product_type", ""),
            )
        except ValidationError as error:
            first = error.errors()[0]
            raise ConfigurationError(f"{where}: {label}: {first['loc'][0]}: {first['msg']}") from None
        if product.id in seen:
            raise ConfigurationError(f"{where}: {label}: id: {product.id!r} appears twice")
        seen.add(product.id)
        products.append(product)
    return tuple(products)


def _price(value: str, where: str) -> tuple[int, str]:
    """Merchant Center's "249.00 USD", in minor units (24900) and its currency."""
    match = _PRICE.match(value)
    if not match:
        raise ConfigurationError(f"{where}: {value!r} is not an amount and currency such as '249.00 USD'")
    try:
        amount = Decimal(match.group(1)) * 100
        if amount != amount.to_integral_value():
            raise ConfigurationError(f"{where}: {value!r} has more than two decimals")
        return int(amount), match.group(2)
    except InvalidOperation:
        raise ConfigurationError(f"{where}: {value!r} is not an amount") from None


def _tsv_rows(content: bytes, where: str) -> list[tuple[str, dict[str, str]]]:
    try:
        frame = pd.read_csv(
            io.BytesIO(content), sep="\t", dtype=str, keep_default_na=False, encoding="utf-8-sig", quoting=3
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"{where}: not a tab-separated feed ({str(error).splitlines()[0]})") from None
    frame.columns = [str(c).strip().lower().removeprefix("g:") for c in frame.columns]
    records = frame.to_dict("records")
    return [(f"line {i + 2}", {str(k): str(v).strip() for k, v in row.items()}) for i, row in enumerate(records)]


def _xml_rows(content: bytes, where: str) -> list[tuple[str, dict[str, str]]]:
    from lxml import etree  # comes with trafilatura

    # The feed is a file, but it still gets no entity expansion and no network.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as error:
        raise ConfigurationError(f"{where}: line {error.lineno}: not valid XML ({error.msg})") from None
    rows = []
    for item in root.iter("item", "{http://www.w3.org/2005/Atom}entry"):
        row: dict[str, str] = {}
        for child in item:
            if not isinstance(child.tag, str):
                continue
            tag = etree.QName(child).localname
            row.setdefault(tag, (child.text or "").strip())
        rows.append((f"line {item.sourceline}", row))
    return rows
