// Package deflate is the DEFLATE encoder (RFC 1951) of permessage-deflate
// (RFC 7692): windows of 2^8 to 2^15 bytes, levels, and the history of
// earlier messages primed as a dictionary, with its working state pooled.
//
// compress/flate cannot honour windows under 32 KiB (RFC 7692 §7.1.2), and
// klauspost/compress's small-window writer has no levels and would be a new dependency.
package deflate

// Window sizes RFC 7692 §7.1.2 allows, as bits.
const (
	MinWindowBits = 8
	MaxWindowBits = 15
)
