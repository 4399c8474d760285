/* placeholder until the module lands */
typedef int hs__report_placeholder_t;
