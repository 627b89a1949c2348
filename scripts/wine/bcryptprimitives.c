/*
 * Minimal stand-in for Windows' bcryptprimitives.dll, for running Rust
 * executables under Wine 8, which does not ship this DLL.
 *
 * Rust's standard library (1.78+) imports ProcessPrng from
 * bcryptprimitives.dll to seed its hash maps and for getrandom. This stub
 * implements it on top of RtlGenRandom (advapi32!SystemFunction036), which
 * Wine does provide.
 *
 * Built and installed into the project's Wine prefix by scripts/wine-setup.sh.
 * Only used for tests under Wine; never shipped.
 */
#include <windows.h>

/* advapi32!SystemFunction036, better known as RtlGenRandom. */
BOOLEAN WINAPI SystemFunction036(PVOID RandomBuffer, ULONG RandomBufferLength);

BOOL WINAPI ProcessPrng(PBYTE pbData, SIZE_T cbData)
{
    /* RtlGenRandom takes a ULONG length: feed it in bounded chunks. */
    while (cbData > 0) {
        ULONG chunk = cbData > 0x10000000u ? 0x10000000u : (ULONG)cbData;
        if (!SystemFunction036(pbData, chunk)) {
            return FALSE;
        }
        pbData += chunk;
        cbData -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    (void)reason;
    (void)reserved;
    return TRUE;
}
