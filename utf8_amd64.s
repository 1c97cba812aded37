//go:build amd64 && !purego

#include "textflag.h"

// func utf8ValidateAVX2(p []byte) int
//
// Checks p in 32-byte blocks with the lookup method described in
// utf8_simd.go and returns the length of the checked prefix: a multiple of
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
TEXT ·utf8ValidateAVX2(SB), NOSPLIT, $0-32
	MOVQ p_base+0(FP), SI
	MOVQ p_len+8(FP), DX
	MOVQ SI, DI
	ANDQ $-32, DX
	ADDQ SI, DX

	VBROADCASTI128 ·utf8SIMDTables+0(SB), Y10
	VBROADCASTI128 ·utf8SIMDTables+16(SB), Y11
	VBROADCASTI128 ·utf8SIMDTables+32(SB), Y12
	VMOVDQU        ·utf8SIMDTables+48(SB), Y14
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

	// Two ASCII blocks at once when there is room: nothing to check but
	// that the block before did not leave a sequence open.
	LEAQ      64(SI), AX
	CMPQ      AX, DX
	JHI       single
	VMOVDQU   (SI), Y1
	VMOVDQU   32(SI), Y2
	VPOR      Y1, Y2, Y3
	VPMOVMSKB Y3, AX
	TESTL     AX, AX
	JNZ       multibyte
	VPTEST    Y15, Y15
	JNZ       done
	VMOVDQU   Y2, Y0
	ADDQ      $64, SI
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
