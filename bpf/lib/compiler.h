/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Small compiler helpers missing from libbpf's headers. */
#ifndef BWA_LIB_COMPILER_H
#define BWA_LIB_COMPILER_H

#ifndef READ_ONCE
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x)) = (v)
#endif

#endif /* BWA_LIB_COMPILER_H */
