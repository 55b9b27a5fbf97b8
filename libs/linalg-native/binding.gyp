{
  "targets": [
    {
      "target_name": "rlsa_linalg_native",
      "sources": [
        "src/native/binding.c",
        "src/native/binding-train.c",
        "src/native/napi-args.c",
        "src/native/gemm.c",
        "src/native/tile.c",
        "src/native/pool.c",
        "src/native/conv.c",
        "src/native/matmul.c",
        "src/native/elementwise.c",
        "src/native/ingest.c"
      ],
      "cflags": ["-O3", "-std=gnu11", "-pthread", "-fno-math-errno", "-fno-trapping-math"],
      "cflags!": ["-O2", "-O0"],
      "ldflags": ["-pthread"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-std=gnu11"] }
    }
  ]
}
