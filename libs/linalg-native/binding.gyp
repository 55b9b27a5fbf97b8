{
  "targets": [
    {
      "target_name": "rlsa_linalg_native",
      "sources": ["src/native/binding.c", "src/native/gemm.c"],
      "cflags": ["-O3", "-std=gnu11", "-pthread", "-fno-math-errno"],
      "cflags!": ["-O2", "-O0"],
      "ldflags": ["-pthread"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-std=gnu11"] }
    }
  ]
}
