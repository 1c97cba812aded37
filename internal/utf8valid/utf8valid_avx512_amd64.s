//go:build amd64 && !purego

#include "textflag.h"

// func validateAVX512(p []byte) int
//
// validateAVX2 (utf8valid_amd64.s) in 64-byte blocks, for CPUs with
// AVX-512 F and BW. It returns len(p) when it found no error, else the
// start of the block where it found one, a multiple of 64: the bytes after
// the last whole block are checked as a block of their own, loaded under a
// mask that zeroes the bytes past the end of p and suppresses any fault
// they would raise; their flags are ignored.
//
// The rest is validateAVX2 with wider registers. VALIGNQ brings the last
// 16 bytes of the previous block below the first 48 of this one, so that
// VPALIGNR, which works within 16-byte lanes, can give the bytes one, two
// and three back; VPTERNLOGD merges the three table lookups, and the two
// continuation tests, in one instruction each; byte tests land in mask
// registers, tested with KORTESTQ.
//
// Registers:
//   SI  next block           DI  start of p        DX  end of the last whole block
//   R9  end of p             BX  length of this block (64, or of the tail)
//   Z0  previous block       Z1  this block        Z2–Z5 scratch
//   Z6  0x60 (E0-0x80)       Z7  0x70 (F0-0x80)    Z8  0x80
//   Z10 prevHigh table       Z11 prevLow table     Z12 curHigh table
//   Z13 0x0F                 Z14 lastMax
//   K1  scratch              K2  bytes of Z0 above lastMax: a sequence left open
//   K3  the bytes of this block that are in p
TEXT ·validateAVX512(SB), NOSPLIT, $0-32
	MOVQ   p_base+0(FP), SI
	MOVQ   p_len+8(FP), DX
	MOVQ   SI, DI
	LEAQ   (SI)(DX*1), R9
	ANDQ   $-64, DX
	ADDQ   SI, DX
	MOVQ   $64, BX
	KXNORQ K3, K3, K3 // in whole blocks all 64 bytes are in p

	VBROADCASTI32X4 ·tables+0(SB), Z10
	VBROADCASTI32X4 ·tables+16(SB), Z11
	VBROADCASTI32X4 ·tables+32(SB), Z12
	VMOVDQU64       ·tables+48(SB), Z14
	MOVL            $0x0f, AX
	VPBROADCASTB    AX, Z13
	MOVL            $0x60, AX
	VPBROADCASTB    AX, Z6
	MOVL            $0x70, AX
	VPBROADCASTB    AX, Z7
	MOVL            $0x80, AX
	VPBROADCASTB    AX, Z8

	// p starts on a boundary: the bytes before it act as ASCII.
	VPXORQ Z0, Z0, Z0
	KXORQ  K2, K2, K2

loop:
	CMPQ SI, DX
	JAE  tail

	// Four ASCII blocks at once when there is room: nothing to check but
	// that the block before did not leave a sequence open.
	LEAQ       256(SI), AX
	CMPQ       AX, DX
	JHI        single
	VMOVDQU64  (SI), Z1
	VMOVDQU64  64(SI), Z2
	VMOVDQU64  128(SI), Z3
	VPTERNLOGD $0xfe, 192(SI), Z1, Z2 // Z2 = Z2 | Z1 | 192(SI)
	VPORQ      Z3, Z2, Z2
	VPMOVB2M   Z2, K1
	KORTESTQ   K1, K1
	JNZ        multibyte
	KORTESTQ   K2, K2
	JNZ        done
	VPXORQ     Z0, Z0, Z0 // every ASCII byte looks the same to the tables
	ADDQ       $256, SI
	JMP        loop

single:
	VMOVDQU64 (SI), Z1
	VPMOVB2M  Z1, K1
	KORTESTQ  K1, K1
	JNZ       multibyte
	KORTESTQ  K2, K2
	JNZ       done
	VPXORQ    Z0, Z0, Z0
	ADDQ      $64, SI
	JMP       loop

multibyte:
	// Z2 = the last lane of the previous block, then the first three of
	// this one: the bytes that slide in when VPALIGNR shifts each lane of
	// Z1 right.
	VALIGNQ  $6, Z0, Z1, Z2
	VPALIGNR $15, Z2, Z1, Z3 // Z3 = the byte before each byte
	VPALIGNR $14, Z2, Z1, Z4 // two before
	VPALIGNR $13, Z2, Z1, Z5 // three before

	// Bytes that must be continuations of a 3- or 4-byte sequence: the
	// byte two back is E0 or above, or the byte three back F0 or above.
	// A saturating subtraction leaves the top bit set exactly there;
	// Z4 = (Z4 | Z5) & 0x80.
	VPSUBUSB   Z6, Z4, Z4
	VPSUBUSB   Z7, Z5, Z5
	VPTERNLOGD $0xa8, Z8, Z5, Z4

	// Two-byte classes: prevHigh[prev>>4] & prevLow[prev&15] & curHigh[cur>>4].
	VPSRLW     $4, Z3, Z2
	VPANDD     Z13, Z2, Z2
	VPSHUFB    Z2, Z10, Z2
	VPANDD     Z13, Z3, Z3
	VPSHUFB    Z3, Z11, Z3
	VPSRLW     $4, Z1, Z5
	VPANDD     Z13, Z5, Z5
	VPSHUFB    Z5, Z12, Z5
	VPTERNLOGD $0x80, Z5, Z3, Z2

	// There the tables' continuation-after-continuation flag is expected:
	// a byte is in error unless its classes are exactly the expected flag.
	VPCMPB   $4, Z4, Z2, K3, K1 // K1 = K3 & (Z2 != Z4)
	KORTESTQ K1, K1
	JNZ      done

	VPCMPUB   $6, Z14, Z1, K2 // K2 = Z1 > lastMax
	VMOVDQA64 Z1, Z0
	ADDQ      BX, SI
	JMP       loop

tail:
	// SI is past DX once the tail has been checked. Otherwise the tail
	// goes through the multibyte path whatever its bytes: it must not
	// leave a sequence of the last whole block unchecked.
	JHI        done
	MOVQ       R9, CX
	SUBQ       SI, CX
	JZ         done
	MOVQ       CX, BX
	MOVQ       $1, AX
	SHLQ       CX, AX
	DECQ       AX
	KMOVQ      AX, K3
	VMOVDQU8.Z (SI), K3, Z1
	JMP        multibyte

done:
	SUBQ       DI, SI
	MOVQ       SI, ret+24(FP)
	VZEROUPPER // the Z registers' upper halves would slow later SSE code
	RET
