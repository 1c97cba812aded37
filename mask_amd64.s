//go:build amd64 && !purego

#include "textflag.h"

// func maskAsm(b []byte, key uint32, avx2 bool)
//
// maskAsm XORs b in place with the RFC 6455 §5.3 key stream starting at key
// position 0 (mask_amd64.go rotates the key for other start positions).
//
// AX holds the key twice (key | key<<32): a 1-, 2-, 4- or 8-byte XOR at key
// position 0 takes its key bytes from AL, AX, EAX or RAX, and rotating RAX
// right by 8 bits per byte consumed advances the key stream. Any multiple of
// 4 bytes leaves the key stream where it was.
//
// Slices of 256 bytes or more are first masked up to a 32-byte boundary, so
// that the vector loops never split a load or store across cache lines; the
// bulk then runs 128 bytes per iteration with AVX2 when avx2 is set, 64 with
// SSE2 (baseline on amd64) otherwise. The rest goes 16, 8, 4, 2, 1 bytes.
TEXT ·maskAsm(SB), NOSPLIT, $0-29
	MOVQ b_base+0(FP), DI
	MOVQ b_len+8(FP), CX
	MOVL key+24(FP), AX
	MOVQ AX, DX
	SHLQ $32, DX
	ORQ  DX, AX
	CMPQ CX, $16
	JB   tail
	CMPQ CX, $256
	JB   sse

	// Head: BX = bytes to the next 32-byte boundary (0–31), at most 31 of
	// the 256 or more, so the bulk loops below run at least once.
	MOVQ  DI, BX
	NEGQ  BX
	ANDQ  $31, BX
	SUBQ  BX, CX
	TESTQ $1, BX
	JZ    head2
	XORB  AL, (DI)
	INCQ  DI
	RORQ  $8, AX

head2:
	TESTQ $2, BX
	JZ    head4
	XORW  AX, (DI)
	ADDQ  $2, DI
	RORQ  $16, AX

head4:
	TESTQ $4, BX
	JZ    head8
	XORL  AX, (DI)
	ADDQ  $4, DI

head8:
	TESTQ $8, BX
	JZ    head16
	XORQ  AX, (DI)
	ADDQ  $8, DI

head16:
	TESTQ $16, BX
	JZ    aligned
	XORQ  AX, (DI)
	XORQ  AX, 8(DI)
	ADDQ  $16, DI

aligned:
	CMPB avx2+28(FP), $0
	JEQ  sse

	MOVQ         AX, X0
	VPBROADCASTQ X0, Y0

avx2Loop128:
	VPXOR   0(DI), Y0, Y1
	VPXOR   32(DI), Y0, Y2
	VPXOR   64(DI), Y0, Y3
	VPXOR   96(DI), Y0, Y4
	VMOVDQU Y1, 0(DI)
	VMOVDQU Y2, 32(DI)
	VMOVDQU Y3, 64(DI)
	VMOVDQU Y4, 96(DI)
	ADDQ    $128, DI
	SUBQ    $128, CX
	CMPQ    CX, $128
	JAE     avx2Loop128
	CMPQ    CX, $32
	JB      avx2Done

avx2Loop32:
	VPXOR   (DI), Y0, Y1
	VMOVDQU Y1, (DI)
	ADDQ    $32, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     avx2Loop32

avx2Done:
	// Clear the upper YMM halves before returning to SSE code; X0 keeps
	// the key for the 16-byte step.
	VZEROUPPER
	JMP sseLoop16

sse:
	MOVQ       AX, X0
	PUNPCKLQDQ X0, X0
	CMPQ       CX, $64
	JB         sseLoop16

sseLoop64:
	MOVOU 0(DI), X1
	MOVOU 16(DI), X2
	MOVOU 32(DI), X3
	MOVOU 48(DI), X4
	PXOR  X0, X1
	PXOR  X0, X2
	PXOR  X0, X3
	PXOR  X0, X4
	MOVOU X1, 0(DI)
	MOVOU X2, 16(DI)
	MOVOU X3, 32(DI)
	MOVOU X4, 48(DI)
	ADDQ  $64, DI
	SUBQ  $64, CX
	CMPQ  CX, $64
	JAE   sseLoop64

sseLoop16:
	CMPQ  CX, $16
	JB    tail
	MOVOU (DI), X1
	PXOR  X0, X1
	MOVOU X1, (DI)
	ADDQ  $16, DI
	SUBQ  $16, CX
	JMP   sseLoop16

tail:
	// Fewer than 16 bytes left: at most one step each of 8, 4, 2 and 1.
	TESTQ $8, CX
	JZ    tail4
	XORQ  AX, (DI)
	ADDQ  $8, DI

tail4:
	TESTQ $4, CX
	JZ    tail2
	XORL  AX, (DI)
	ADDQ  $4, DI

tail2:
	TESTQ $2, CX
	JZ    tail1
	XORW  AX, (DI)
	ADDQ  $2, DI
	SHRQ  $16, AX

tail1:
	TESTQ $1, CX
	JZ    done
	XORB  AL, (DI)

done:
	RET

// func maskCopyAsm(dst, src []byte, key uint32, avx2 bool)
//
// maskCopyAsm writes the len(src) bytes of src, XORed with the key stream
// from key position 0, to dst; dst holds at least len(src) bytes and does
// not overlap src. AX holds the key twice, as in maskAsm. The loads and
// stores are unaligned: dst follows a frame header of 2 to 14 bytes, so
// src and dst are rarely aligned the same way, and one of the two streams
// would split cache lines whichever was aligned. Bulk: 128 bytes per
// iteration with AVX2 (from 256 bytes on, when avx2 is set), else 64 with
// SSE2; then 16, 8, 4, 2, 1 bytes.
TEXT ·maskCopyAsm(SB), NOSPLIT, $0-53
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	MOVL key+48(FP), AX
	MOVQ AX, DX
	SHLQ $32, DX
	ORQ  DX, AX
	CMPQ CX, $16
	JB   ctail
	MOVQ       AX, X0
	PUNPCKLQDQ X0, X0
	CMPQ       CX, $256
	JB         csse
	CMPB       avx2+52(FP), $0
	JEQ        csse

	VPBROADCASTQ X0, Y0

cavx2Loop128:
	VMOVDQU 0(SI), Y1
	VMOVDQU 32(SI), Y2
	VMOVDQU 64(SI), Y3
	VMOVDQU 96(SI), Y4
	VPXOR   Y0, Y1, Y1
	VPXOR   Y0, Y2, Y2
	VPXOR   Y0, Y3, Y3
	VPXOR   Y0, Y4, Y4
	VMOVDQU Y1, 0(DI)
	VMOVDQU Y2, 32(DI)
	VMOVDQU Y3, 64(DI)
	VMOVDQU Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $128, CX
	CMPQ    CX, $128
	JAE     cavx2Loop128
	CMPQ    CX, $32
	JB      cavx2Done

cavx2Loop32:
	VMOVDQU (SI), Y1
	VPXOR   Y0, Y1, Y1
	VMOVDQU Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     cavx2Loop32

cavx2Done:
	// As in maskAsm: leave AVX state clean; X0 keeps the key.
	VZEROUPPER
	JMP csseLoop16

csse:
	CMPQ CX, $64
	JB   csseLoop16

csseLoop64:
	MOVOU 0(SI), X1
	MOVOU 16(SI), X2
	MOVOU 32(SI), X3
	MOVOU 48(SI), X4
	PXOR  X0, X1
	PXOR  X0, X2
	PXOR  X0, X3
	PXOR  X0, X4
	MOVOU X1, 0(DI)
	MOVOU X2, 16(DI)
	MOVOU X3, 32(DI)
	MOVOU X4, 48(DI)
	ADDQ  $64, SI
	ADDQ  $64, DI
	SUBQ  $64, CX
	CMPQ  CX, $64
	JAE   csseLoop64

csseLoop16:
	CMPQ  CX, $16
	JB    ctail
	MOVOU (SI), X1
	PXOR  X0, X1
	MOVOU X1, (DI)
	ADDQ  $16, SI
	ADDQ  $16, DI
	SUBQ  $16, CX
	JMP   csseLoop16

ctail:
	// Fewer than 16 bytes left: at most one step each of 8, 4, 2 and 1.
	TESTQ $8, CX
	JZ    ctail4
	MOVQ  (SI), DX
	XORQ  AX, DX
	MOVQ  DX, (DI)
	ADDQ  $8, SI
	ADDQ  $8, DI

ctail4:
	TESTQ $4, CX
	JZ    ctail2
	MOVL  (SI), DX
	XORL  AX, DX
	MOVL  DX, (DI)
	ADDQ  $4, SI
	ADDQ  $4, DI

ctail2:
	TESTQ $2, CX
	JZ    ctail1
	MOVW  (SI), DX
	XORW  AX, DX
	MOVW  DX, (DI)
	ADDQ  $2, SI
	ADDQ  $2, DI
	SHRQ  $16, AX

ctail1:
	TESTQ $1, CX
	JZ    cdone
	MOVB  (SI), DX
	XORB  AL, DL
	MOVB  DL, (DI)

cdone:
	RET
