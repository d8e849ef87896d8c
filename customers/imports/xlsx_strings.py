"""A workbook's shared strings, read as far as the cells ask and no further, and kept compactly.

Excel stores most text once, in xl/sharedStrings.xml, and a cell holds its index. openpyxl's
``read_strings`` loads the whole table as Python strings before the first row is read: a 10 MB
file whose table unpacks to 87 MB grew the process by 578 MB and took 45 s, only to report a
missing column; 6 million strings in 19.6 MB took 52 s and 1 GB. Here instead:

- the table is parsed with expat as a stream, only as far as the highest index a cell has asked
  for so far: the header row needs its first few strings, and a header without a required
  column is reported before the rest is read (cleaning.py stops at the header);
- the strings are kept as one UTF-8 ``bytearray`` and an ``array`` of 32-bit offsets (about 4
  bytes per string beyond its text, against about 60 for a Python string and its list slot),
  and a string is decoded when a cell asks for it;
- the number of strings and their total size are capped (limits.py); the table's declared
  ``uniqueCount`` is checked as soon as its first tag is read, but not trusted: the caps are
  also checked as the strings are read, and refused the moment one is passed. (Its ``count``
  is the number of cells using the table, which a valid file may have more of than the cap.)

Measured on the benchmark's 100,000 customers saved by LibreOffice (424,000 strings, 6.7 MB of
text in 59 MB of XML): openpyxl's ``read_string_table`` 14 s and about 70 MB, this parser 1.8 s
and 8 MB; a lookup costs 0.4 µs against 0.27 µs for a list, 0.2 s over the whole file.
"""

from array import array

from django.utils.translation import gettext as _

from .limits import ImportFileError, max_shared_string_bytes, max_shared_strings, megabytes
from .xlsx_package import expat_parser, sheet_unreadable

CHUNK = 1 << 16


def too_many_strings(limit: int) -> ImportFileError:
    return ImportFileError(
        _(
            "The workbook holds more than %(max)s different texts, far more than a customer file needs; "
            "copy the customer columns into a new workbook, save it and import that."
        )
        % {"max": f"{limit:,}"}
    )


def too_much_text(limit: int) -> ImportFileError:
    return ImportFileError(
        _(
            "The workbook's texts add up to more than %(limit)s, far more than a customer file needs; "
            "copy the customer columns into a new workbook, save it and import that."
        )
        % {"limit": megabytes(limit)}
    )


class SharedStrings:
    """``strings[i]``: the i-th shared string, reading the table up to it on first use."""

    def __init__(self, archive, path: str | None):
        self.data = bytearray()
        self.offsets = array("I", [0])  # string i is data[offsets[i]:offsets[i + 1]]
        self.max_count = max_shared_strings()
        self.max_bytes = max_shared_string_bytes()
        self.source = archive.open(path) if path else None
        self.parser = self._parser() if path else None

    def __len__(self) -> int:
        """The strings read so far."""
        return len(self.offsets) - 1

    def __getitem__(self, index: int) -> str:
        offsets = self.offsets
        if not 0 <= index < len(offsets) - 1:
            self._read_through(index)
        return self.data[offsets[index] : offsets[index + 1]].decode()

    def close(self) -> None:
        if self.source is not None:
            self.source.close()
            self.source = None

    def _read_through(self, index: int) -> None:
        if index < 0:
            raise sheet_unreadable()
        while index >= len(self.offsets) - 1:
            if self.source is None:  # a cell refers to a string the table does not have
                raise sheet_unreadable()
            chunk = self.source.read(CHUNK)
            self.parser.Parse(chunk, not chunk)
            if not chunk:
                self.close()

    def _parser(self):
        data, offsets = self.data, self.offsets
        max_count, max_bytes = self.max_count, self.max_bytes
        prefix = None
        grab = False
        phonetic = 0

        def start(name, attrs):
            nonlocal prefix, grab, phonetic
            if prefix is None:  # the root element tells whether names carry a prefix ("x:sst")
                prefix = name[: name.index(":") + 1] if ":" in name else ""
                self._check_declared(attrs)
            if prefix:
                if not name.startswith(prefix):
                    return
                name = name[len(prefix) :]
            if name == "t":
                grab = not phonetic
            elif name == "si":
                if len(offsets) > max_count:
                    raise too_many_strings(max_count)
            elif name == "rPh":
                phonetic += 1

        def end(name):
            nonlocal grab, phonetic
            if prefix:
                if not name.startswith(prefix):
                    return
                name = name[len(prefix) :]
            if name == "t":
                grab = False
            elif name == "si":
                begin = offsets[-1]
                if data.find(b"x005F_", begin) != -1:  # as openpyxl reads it: _x005F_ escapes an underscore
                    text = data[begin:].replace(b"x005F_", b"")
                    del data[begin:]
                    data.extend(text)
                offsets.append(len(data))
            elif name == "rPh":
                phonetic -= 1

        def characters(text):
            if grab:
                data.extend(text.encode())
                if len(data) > max_bytes:
                    raise too_much_text(max_bytes)

        parser = expat_parser()
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = characters
        return parser

    def _check_declared(self, attrs: list) -> None:
        """The count the table declares, refused up front when over the cap (and not trusted below it)."""
        for i in range(0, len(attrs), 2):
            declared = attrs[i + 1].strip()
            if attrs[i] == "uniqueCount" and declared.isdigit() and int(declared) > self.max_count:
                raise too_many_strings(self.max_count)
