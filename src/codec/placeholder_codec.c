/* placeholder until the module lands */
typedef int hs__codec_placeholder_t;
