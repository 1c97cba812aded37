//go:build amd64 && !purego

#include "textflag.h"

// func validateAVX2(p []byte) int
//
// Checks p in 32-byte blocks with the lookup method described in
// utf8valid_amd64.go and returns the length of the checked prefix: a multiple of
// 32, stopping before the first block in which a byte is flagged. p must
// start on a sequence boundary; a tail shorter than a block is left to the
// caller.
//
// Registers:
//   SI  next block           DI  start of p        DX  end of the last whole block
//   Y0  previous block       Y1  this block        Y2–Y5 scratch
//   Y6  0x60 (E0-0x80)       Y7  0x70 (F0-0x80)    Y8  0x80
//   Y10 prevHigh table       Y11 prevLow table     Y12 curHigh table
//   Y13 0x0F                 Y14 lastMax           Y15 open sequence at the end of Y0
TEXT ·validateAVX2(SB), NOSPLIT, $0-32
	MOVQ p_base+0(FP), SI
	MOVQ p_len+8(FP), DX
	MOVQ SI, DI
	ANDQ $-32, DX
	ADDQ SI, DX

	VBROADCASTI128 ·tables+0(SB), Y10
	VBROADCASTI128 ·tables+16(SB), Y11
	VBROADCASTI128 ·tables+32(SB), Y12
	VMOVDQU        ·tables+80(SB), Y14
	MOVL           $0x0f, AX
	MOVD           AX, X13
	VPBROADCASTB   X13, Y13
	MOVL           $0x60, AX
	MOVD           AX, X6
	VPBROADCASTB   X6, Y6
	MOVL           $0x70, AX
	MOVD           AX, X7
	VPBROADCASTB   X7, Y7
	MOVL           $0x80, AX
	MOVD           AX, X8
	VPBROADCASTB   X8, Y8

	// p starts on a boundary: the bytes before it act as ASCII.
	VPXOR Y0, Y0, Y0
	VPXOR Y15, Y15, Y15

loop:
	CMPQ SI, DX
	JEQ  done

	// Four ASCII blocks at once when there is room: nothing to check but
	// that the block before did not leave a sequence open.
	LEAQ      128(SI), AX
	CMPQ      AX, DX
	JHI       single
	VMOVDQU   (SI), Y1
	VPOR      32(SI), Y1, Y2
	VPOR      64(SI), Y2, Y2
	VPOR      96(SI), Y2, Y2
	VPMOVMSKB Y2, AX
	TESTL     AX, AX
	JNZ       multibyte
	VPTEST    Y15, Y15
	JNZ       done
	VMOVDQU   96(SI), Y0
	ADDQ      $128, SI
	JMP       loop

single:
	VMOVDQU   (SI), Y1
	VPMOVMSKB Y1, AX
	TESTL     AX, AX
	JNZ       multibyte
	VPTEST    Y15, Y15
	JNZ       done
	VMOVDQU   Y1, Y0
	ADDQ      $32, SI
	JMP       loop

multibyte:
	// Y2 = high lane of the previous block, low lane of this one: the
	// bytes that slide in when PALIGNR shifts each lane of Y1 right.
	VPERM2I128 $0x21, Y1, Y0, Y2
	VPALIGNR   $15, Y2, Y1, Y3 // Y3 = the byte before each byte

	// Two-byte classes: prevHigh[prev>>4] & prevLow[prev&15] & curHigh[cur>>4].
	VPSRLW  $4, Y3, Y4
	VPAND   Y13, Y4, Y4
	VPSHUFB Y4, Y10, Y4
	VPAND   Y13, Y3, Y5
	VPSHUFB Y5, Y11, Y5
	VPAND   Y5, Y4, Y4
	VPSRLW  $4, Y1, Y5
	VPAND   Y13, Y5, Y5
	VPSHUFB Y5, Y12, Y5
	VPAND   Y5, Y4, Y4

	// Bytes that must be continuations of a 3- or 4-byte sequence: the
	// byte two back is E0 or above, or the byte three back F0 or above.
	// A saturating subtraction leaves the top bit set exactly there.
	VPALIGNR $14, Y2, Y1, Y3
	VPALIGNR $13, Y2, Y1, Y5
	VPSUBUSB Y6, Y3, Y3
	VPSUBUSB Y7, Y5, Y5
	VPOR     Y5, Y3, Y3
	VPAND    Y8, Y3, Y3

	// There the tables' continuation-after-continuation flag is expected:
	// flipping it clears the expected ones and raises the missing ones.
	VPXOR  Y3, Y4, Y4
	VPTEST Y4, Y4
	JNZ    done

	VPSUBUSB Y14, Y1, Y15
	VMOVDQU  Y1, Y0
	ADDQ     $32, SI
	JMP      loop

done:
	SUBQ       DI, SI
	MOVQ       SI, ret+24(FP)
	VZEROUPPER
	RET

// func validateSSSE3(p []byte) int
//
// validateAVX2 in 16-byte blocks, for CPUs with SSSE3 (PSHUFB,
// PALIGNR) but not AVX2. Returns a multiple of 16. Whether the last checked
// block left a sequence open is kept in R8 (nonzero if so) rather than
// tested with PTEST, which is SSE4.1.
//
// Registers:
//   SI  next block           DI  start of p        DX  end of the last whole block
//   X0  previous block       X1  this block        X2–X5 scratch
//   X6  0x60                 X7  0x70              X8  0x80
//   X9  zero                 X10 prevHigh          X11 prevLow
//   X12 curHigh              X13 0x0F              X14 lastMax, last 16 bytes
TEXT ·validateSSSE3(SB), NOSPLIT, $0-32
	MOVQ p_base+0(FP), SI
	MOVQ p_len+8(FP), DX
	MOVQ SI, DI
	ANDQ $-16, DX
	ADDQ SI, DX

	MOVOU  ·tables+0(SB), X10
	MOVOU  ·tables+16(SB), X11
	MOVOU  ·tables+32(SB), X12
	MOVOU  ·tables+96(SB), X14
	PXOR   X9, X9
	MOVL   $0x0f, AX
	MOVD   AX, X13
	PSHUFB X9, X13
	MOVL   $0x60, AX
	MOVD   AX, X6
	PSHUFB X9, X6
	MOVL   $0x70, AX
	MOVD   AX, X7
	PSHUFB X9, X7
	MOVL   $0x80, AX
	MOVD   AX, X8
	PSHUFB X9, X8

	// p starts on a boundary: the bytes before it act as ASCII.
	PXOR X0, X0
	XORL R8, R8

sloop:
	CMPQ SI, DX
	JEQ  sdone

	// Four ASCII blocks at once when there is room.
	LEAQ     64(SI), AX
	CMPQ     AX, DX
	JHI      ssingle
	MOVOU    (SI), X1
	MOVOU    16(SI), X2
	MOVOU    32(SI), X3
	MOVOU    48(SI), X4
	POR      X1, X2
	POR      X3, X4
	POR      X2, X4
	PMOVMSKB X4, AX
	TESTL    AX, AX
	JNZ      smultibyte
	TESTL    R8, R8
	JNZ      sdone
	MOVOU    48(SI), X0
	ADDQ     $64, SI
	JMP      sloop

ssingle:
	MOVOU    (SI), X1
	PMOVMSKB X1, AX
	TESTL    AX, AX
	JNZ      smultibyte
	TESTL    R8, R8
	JNZ      sdone
	MOVOU    X1, X0
	ADDQ     $16, SI
	JMP      sloop

smultibyte:
	// Two-byte classes, with X3 = the byte before each byte.
	MOVOU   X1, X3
	PALIGNR $15, X0, X3
	MOVOU   X3, X4
	PSRLW   $4, X4
	PAND    X13, X4
	MOVOU   X10, X2
	PSHUFB  X4, X2
	PAND    X13, X3
	MOVOU   X11, X4
	PSHUFB  X3, X4
	PAND    X4, X2
	MOVOU   X1, X3
	PSRLW   $4, X3
	PAND    X13, X3
	MOVOU   X12, X4
	PSHUFB  X3, X4
	PAND    X4, X2

	// Continuations that a lead two or three bytes back requires.
	MOVOU   X1, X3
	PALIGNR $14, X0, X3
	MOVOU   X1, X4
	PALIGNR $13, X0, X4
	PSUBUSB X6, X3
	PSUBUSB X7, X4
	POR     X4, X3
	PAND    X8, X3
	PXOR    X3, X2

	// Any byte flagged: stop before this block.
	PCMPEQB  X9, X2
	PMOVMSKB X2, AX
	CMPL     AX, $0xffff
	JNE      sdone

	// R8 = whether this block ends inside a sequence.
	MOVOU    X1, X3
	PSUBUSB  X14, X3
	PCMPEQB  X9, X3
	PMOVMSKB X3, R8
	XORL     $0xffff, R8
	MOVOU    X1, X0
	ADDQ     $16, SI
	JMP      sloop

sdone:
	SUBQ DI, SI
	MOVQ SI, ret+24(FP)
	RET
