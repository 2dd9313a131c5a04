package strings

import "kensa.dev/kensa/analyzers/entropy"

// Facts is what the strings analyzer observed in one file: how many printable strings it
// holds and the notable ones, the network, encoding and credential indicators drawn from
// them, and the entropy of the file as a whole and by region.
type Facts struct {
	// MinLength is the shortest run of printable characters counted as a string, in
	// characters (6, as `strings -n 6`).
	MinLength int `json:"minLength"`
	// Strings lists the strings found, at most 20000: by offset within each encoding, the
	// two encodings interleaved by 1 MiB read chunk. Only `kensa facts` lists them, and a
	// scan whose rules read strings.strings; otherwise the field is absent (a scan of a
	// large image would hold millions of strings for no reader).
	Strings []String `json:"strings,omitempty"`
	// Notable lists the strings that hold one of NotableMarkers (paths, commands and APIs
	// backdoors use, such as /etc/shadow, /dev/tcp/, LD_PRELOAD, powershell), in any ASCII
	// case: at most 100, by offset within each encoding, from every string of the file.
	Notable []String `json:"notable"`
	// StringCount is how many strings the file holds in all, including those past the cap.
	StringCount int64 `json:"stringCount"`
	// ASCIICount is how many of them are ASCII strings.
	ASCIICount int64 `json:"asciiCount"`
	// UTF16Count is how many of them are UTF-16LE strings.
	UTF16Count int64 `json:"utf16Count"`
	// StringsTruncated is true when Strings is listed and more strings were found than it
	// lists.
	StringsTruncated bool `json:"stringsTruncated,omitempty"`
	// Indicators are the URLs, hosts, addresses, encoded blobs and credentials found in the
	// strings (and, in text and script files, in every line of the raw text).
	Indicators Indicators `json:"indicators"`
	// Entropy is the Shannon entropy of the whole file in bits per byte (0 to 8).
	Entropy float64 `json:"entropy"`
	// RegionSize is the size in bytes of the windows Regions measures: 65536, or larger
	// for files of more than 256 windows so that 256 windows cover the file.
	RegionSize int64 `json:"regionSize"`
	// Regions is the entropy of consecutive windows of RegionSize bytes (the last one may
	// be shorter), at most 256.
	Regions []entropy.Region `json:"regions"`
	// MaxRegion is the region of highest entropy (the first one on a tie); absent for an
	// empty file.
	MaxRegion *entropy.Region `json:"maxRegion,omitempty"`
}

// String is one run of printable characters: tab or 0x20–0x7e, one byte each ("ascii") or
// each followed by a zero byte ("utf16le"), as GNU strings counts them.
type String struct {
	// Offset is the byte offset of the string's first byte in the file.
	Offset int64 `json:"offset"`
	// Encoding is "ascii" or "utf16le".
	Encoding string `json:"encoding"`
	// Value is the string's text, cut to its first 1024 characters, with any credential
	// it holds replaced by the credential's redacted form.
	Value string `json:"value"`
	// Length is the string's full length in characters (a UTF-16LE string spans twice as
	// many bytes).
	Length int64 `json:"length"`
	// Redacted is true when a credential was cut out of Value.
	Redacted bool `json:"redacted,omitempty"`
}

// Indicators groups the indicators by kind. Each list holds one item per distinct value,
// at most 1000 per kind.
type Indicators struct {
	// URLs are scheme://… references of any scheme (http, https, ftp, ws, wss, tcp, …).
	URLs IndicatorList `json:"urls"`
	// Domains are host names whose public suffix is ICANN-managed
	// (golang.org/x/net/publicsuffix), with a label in front of it: URL hosts, e-mail
	// domains, and names standing alone that pass the stricter rule of the package
	// documentation (no file names like "libc.so", no code like "this.name").
	Domains IndicatorList `json:"domains"`
	// IPv4 are dotted-quad IPv4 literals.
	IPv4 IndicatorList `json:"ipv4"`
	// IPv6 are IPv6 literals.
	IPv6 IndicatorList `json:"ipv6"`
	// Emails are e-mail addresses whose domain passes the Domains rule.
	Emails IndicatorList `json:"emails"`
	// Onions are Tor onion service addresses (v3: 56 base32 characters, v2: 16).
	Onions IndicatorList `json:"onions"`
	// Base64 are runs of at least 64 base64 characters that decode.
	Base64 IndicatorList `json:"base64"`
	// Hex are runs of at least 64 hexadecimal digits.
	Hex IndicatorList `json:"hex"`
	// Secrets are private keys and credential-shaped tokens; their values are always
	// redacted.
	Secrets IndicatorList `json:"secrets"`
}

// IndicatorList is the indicators of one kind.
type IndicatorList struct {
	// Items holds one entry per distinct value, in the order first seen, at most 1000.
	Items []Indicator `json:"items"`
	// Occurrences is how many times indicators of this kind occur in the file, past the
	// cap too.
	Occurrences int64 `json:"occurrences"`
	// Truncated is true when distinct values were left out of Items because of the cap.
	Truncated bool `json:"truncated"`
}

// Indicator is one distinct indicator value.
type Indicator struct {
	// Kind names what it is: "url", "domain", "ipv4", "ipv6", "email", "onion", "base64",
	// "hex"; for secrets "private-key", "aws-access-key-id", "github-token",
	// "gitlab-token", "slack-token", "google-api-key", "stripe-secret-key", "jwt",
	// "password" (a password=, passwd:, secret=, token= … assignment with a value) or
	// "url-credentials" (user:password@ in a URL).
	Kind string `json:"kind"`
	// Value is the indicator as it appears (lower-cased for domains, e-mail domains and
	// onions), cut to 512 characters; for secrets and URLs with a password, the redacted
	// form: the non-secret prefix, "…" and the length ("AKIA…(20 chars)"); for base64 and
	// hex blobs their first 32 characters followed by "…".
	Value string `json:"value"`
	// Redacted is true when Value is a redacted form rather than the text itself.
	Redacted bool `json:"redacted,omitempty"`
	// Offset is the byte offset in the file of the first occurrence.
	Offset int64 `json:"offset"`
	// Encoding is the encoding of the string the first occurrence was found in: "ascii"
	// or "utf16le" ("ascii" also for lines of text files).
	Encoding string `json:"encoding"`
	// Count is how many times the value occurs.
	Count int64 `json:"count"`
	// Scheme is a URL's scheme, lower case ("https", "tcp").
	Scheme string `json:"scheme,omitempty"`
	// Host is a URL's host, lower case, without port or brackets; empty for URLs without
	// one (file:///…).
	Host string `json:"host,omitempty"`
	// Scope classifies an IP address: "public", "private" (RFC 1918, RFC 4193),
	// "loopback", "link-local", "multicast", "unspecified", "shared" (100.64.0.0/10),
	// "documentation", "benchmarking" or "reserved" (other special-purpose ranges).
	Scope string `json:"scope,omitempty"`
	// Version is an onion address's version: 2 or 3.
	Version int `json:"version,omitempty"`
	// Length is the length in characters of a blob or secret as found (without base64
	// padding).
	Length int `json:"length,omitempty"`
	// DecodedLength is the number of bytes a base64 or hex blob decodes to.
	DecodedLength int `json:"decodedLength,omitempty"`
	// DecodedEntropy is the Shannon entropy of the decoded bytes in bits per byte.
	DecodedEntropy float64 `json:"decodedEntropy,omitempty"`
	// DecodedFormat is what the decoded bytes sniff as ("elf", "pe", "script", "gzip",
	// "text", "data", …; see analyzers/sniff).
	DecodedFormat string `json:"decodedFormat,omitempty"`
}
