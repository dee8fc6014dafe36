# Um cliente como o da disciplina: socket bloqueante, send() sem fim de
# linha, recv(1024).  Usado pelos testes e pela lição de docs/teaching.md.
#
#   python cliente.py PORTA [inteiro|partido]
#
# inteiro: manda o nome num send().
# partido: manda o nome em dois send(), com 0,2 s entre eles.
# longo:   manda "Ana Maria" num send() (mais do que um servidor que lê 3
#          bytes vai ler).
import socket
import sys
import time

porta = int(sys.argv[1])
modo = sys.argv[2] if len(sys.argv) > 2 else "inteiro"

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("127.0.0.1", porta))
if modo == "partido":
    s.send(b"An")
    time.sleep(0.2)
    s.send(b"a")
elif modo == "longo":
    s.send(b"Ana Maria")
else:
    s.send(b"Ana")
try:
    resposta = s.recv(1024)
    print("Servidor:", repr(resposta.decode()), flush=True)
    print("depois:", repr(s.recv(1024)), flush=True)
except ConnectionResetError:
    print("ConnectionResetError", flush=True)
s.close()
