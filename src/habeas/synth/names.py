"""Names from many traditions, with the variants agencies actually record.

Each entry is ``canonical|variant|variant``: transliterations, spellings with and
without diacritics. Traditions also say how names are ordered and where people
were born.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tradition:
    """A naming tradition: its names, their variants, and its countries of birth."""

    key: str
    male: tuple[tuple[str, ...], ...]
    female: tuple[tuple[str, ...], ...]
    family: tuple[tuple[str, ...], ...]
    countries: tuple[tuple[str, str], ...]  # (country name, ISO-3)
    compound_family: bool = False
    family_first: bool = False


def _names(text: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(entry.split("|")) for entry in text.split())


TRADITIONS: tuple[Tradition, ...] = (
    Tradition(
        "hispanic",
        _names(
            "José|Jose Juan Luis|Luís Carlos Jesús|Jesus Miguel Francisco Alejandro Javier "
            "Manuel Antonio Jorge Ricardo Raúl|Raul Andrés|Andres Héctor|Hector Óscar|Oscar "
            "Fernando Eduardo Sergio Roberto Guillermo Ramón|Ramon Julio Rafael Pedro Mario"
        ),
        _names(
            "María|Maria Guadalupe Ana Rosa Sofía|Sofia Isabel Lucía|Lucia Carmen Verónica|Veronica "
            "Gabriela Alejandra Patricia Adriana Elena Daniela Mónica|Monica Claudia Leticia "
            "Marisol Yesenia Araceli Beatriz Esperanza Norma Silvia"
        ),
        _names(
            "García|Garcia Rodríguez|Rodriguez Martínez|Martinez Hernández|Hernandez López|Lopez "
            "González|Gonzalez Pérez|Perez Sánchez|Sanchez Ramírez|Ramirez Torres Flores Rivera "
            "Gómez|Gomez Díaz|Diaz Cruz Morales Reyes Gutiérrez|Gutierrez Ortiz Chávez|Chavez "
            "Ramos Ruiz Mendoza Álvarez|Alvarez Castillo Jiménez|Jimenez Vásquez|Vasquez|Vazquez "
            "Romero Herrera Medina Aguilar Vargas Guzmán|Guzman Salazar Contreras Estrada"
        ),
        (
            ("Mexico", "MEX"),
            ("Guatemala", "GTM"),
            ("Honduras", "HND"),
            ("El Salvador", "SLV"),
            ("Venezuela", "VEN"),
            ("Colombia", "COL"),
            ("Cuba", "CUB"),
            ("Nicaragua", "NIC"),
            ("Ecuador", "ECU"),
            ("Dominican Republic", "DOM"),
        ),
        compound_family=True,
    ),
    Tradition(
        "arabic",
        _names(
            "Mohammed|Muhammad|Mohamed|Mohamad Ahmed|Ahmad Ali Omar|Umar Hassan|Hasan "
            "Hussein|Husain|Hussain Khalid|Khaled Youssef|Yusuf|Yousef Ibrahim|Ebrahim "
            "Abdullah|Abdallah Mustafa|Mostafa Tariq|Tarek Samir|Sameer Karim|Kareem "
            "Nabil Rashid|Rasheed Walid|Waleed Jamal|Gamal Faisal|Faysal"
        ),
        _names(
            "Fatima|Fatma|Fatemah Aisha|Aysha|Aicha Mariam|Maryam|Miriam Layla|Leila|Laila "
            "Nour|Noor Huda|Hoda Amira|Ameera Yasmin|Yasmeen|Jasmin Rania Salma Zainab|Zaynab "
            "Hana|Hanaa Noura|Nora Samira|Sameera Dina|Deena"
        ),
        _names(
            "Al-Sayed|Alsayed|El-Sayed Haddad Khalil Mansour|Mansur Nasser|Nasir Hamdan "
            "Abdelrahman|Abdel-Rahman|Abdulrahman Saleh|Salih Ibrahim Hassan|Hasan Othman|Osman "
            "Farah Youssef|Yousef Kassem|Qasim|Kasim Darwish Haddad Najjar|Al-Najjar Aziz "
            "Bakr|Bakir Suleiman|Sulaiman|Soliman Mahmoud|Mahmud Jaber|Jabir Rahman"
        ),
        (
            ("Syria", "SYR"),
            ("Iraq", "IRQ"),
            ("Yemen", "YEM"),
            ("Egypt", "EGY"),
            ("Lebanon", "LBN"),
            ("Jordan", "JOR"),
            ("Sudan", "SDN"),
            ("Somalia", "SOM"),
        ),
    ),
    Tradition(
        "chinese",
        _names(
            "Wei Jun|Chun Ming Hao Lei Jie|Chieh Tao Yong Jian|Chien Qiang|Chiang Bo|Po "
            "Hui|Hwei Gang|Kang Feng Peng Xin|Hsin Zhen|Chen Yi Long|Lung"
        ),
        _names(
            "Li|Lee Ying Fang Jing|Ching Mei Xiu|Hsiu Yan|Yen Hua|Hwa Juan Lan Ling Xia|Hsia "
            "Yu Qing|Ching Hong|Hung Xue|Hsueh Na Ping"
        ),
        _names(
            "Wang Li|Lee Zhang|Chang Liu|Lau Chen|Chan|Chin Yang|Yeung Huang|Wong Zhao|Chao "
            "Wu|Ng Zhou|Chou Xu|Hsu Sun Ma Zhu|Chu Hu Guo|Kuo Lin|Lam He|Ho Gao|Kao Luo|Lo "
            "Zheng|Cheng Liang|Leung Xie|Hsieh Song|Sung Tang|Tong"
        ),
        (("China", "CHN"), ("Taiwan", "TWN"), ("Hong Kong", "HKG")),
        family_first=True,
    ),
    Tradition(
        "vietnamese",
        _names(
            "Minh Tuấn|Tuan Hùng|Hung Dũng|Dung Quang Thành|Thanh Hải|Hai Long Khoa Phúc|Phuc "
            "Bảo|Bao Đức|Duc|Duk Hoàng|Hoang Trung Việt|Viet"
        ),
        _names(
            "Linh Hương|Huong Lan Mai Thảo|Thao Trang Hạnh|Hanh Ngọc|Ngoc Phương|Phuong "
            "Thu Hà|Ha Nhung Vy Yến|Yen"
        ),
        _names(
            "Nguyễn|Nguyen|Nguyn Trần|Tran Lê|Le Phạm|Pham Hoàng|Hoang|Huynh Huỳnh|Huynh "
            "Phan Vũ|Vu|Voo Võ|Vo Đặng|Dang Bùi|Bui Đỗ|Do Hồ|Ho Ngô|Ngo Dương|Duong Lý|Ly"
        ),
        (("Vietnam", "VNM"),),
        family_first=True,
    ),
    Tradition(
        "slavic",
        _names(
            "Aleksandr|Alexander|Oleksandr|Aleksander Dmitri|Dmitry|Dmytro Sergei|Sergey|Serhiy "
            "Andrei|Andrey|Andriy Mikhail|Mykhailo|Michail Ivan Nikolai|Nikolay|Mykola "
            "Vladimir|Volodymyr|Wladimir Yuri|Yuriy|Jurij Pavel|Pavlo Oleg|Oleh Viktor|Victor"
        ),
        _names(
            "Olga|Olha Natalia|Natalya|Nataliya Tatiana|Tatyana|Tetiana Yelena|Elena|Olena "
            "Irina|Iryna|Irena Svetlana|Svitlana Anastasia|Anastasiya Yulia|Yuliya|Julia "
            "Ekaterina|Yekaterina|Kateryna Mariya|Maria"
        ),
        _names(
            "Shevchenko|Ševčenko|Schewtschenko Kovalenko|Kowalenko Bondarenko Ivanov|Ivanova "
            "Petrov|Petrova Smirnov|Smirnova Kuznetsov|Kuznetsova Popov|Popova Melnyk|Melnik "
            "Tkachenko|Tkačenko Kravchenko|Kravčenko Volkov|Wolkow Sokolov|Sokolow Lebedev|Lebedeff "
            "Novak|Nowak Horvat|Chorvat Kowalski|Kovalsky"
        ),
        (("Ukraine", "UKR"), ("Russia", "RUS"), ("Belarus", "BLR"), ("Moldova", "MDA")),
    ),
    Tradition(
        "south_asian",
        _names(
            "Rahul Amit Raj Vijay Sanjay Arjun Rohit Anil Sunil Mohammed|Mohammad Imran "
            "Harpreet Gurpreet Rajesh Suresh|Sureshkumar Venkatesh Karthik|Kartik"
        ),
        _names(
            "Priya Anjali Pooja|Puja Sunita Kavita|Kavitha Lakshmi|Laxmi Deepa|Dipa Neha "
            "Ayesha|Aisha Simran Manpreet Divya Meena|Mina"
        ),
        _names(
            "Patel Singh Kumar Shah Sharma Gupta Reddy Rao Khan Chaudhry|Choudhury|Chowdhury "
            "Iyer Nair Desai Mehta Joshi Malik Das Bhatt|Bhat Kaur Hossain|Hussain"
        ),
        (("India", "IND"), ("Pakistan", "PAK"), ("Bangladesh", "BGD"), ("Nepal", "NPL")),
    ),
    Tradition(
        "west_african",
        _names(
            "Mamadou Ibrahima Oumar|Umar Moussa|Musa Abdoulaye|Abdullahi Chukwuemeka|Emeka "
            "Oluwaseun|Seun Kwame Kofi Adebayo Babajide Amadou|Ahmadou Ousmane|Usman"
        ),
        _names(
            "Aminata Fatoumata|Fatimata Mariama|Mariam Adaeze Chioma Ngozi Abena Ama Aissatou "
            "Folake Oluwakemi|Kemi Kadiatou|Kadiatu"
        ),
        _names(
            "Diallo Traoré|Traore Koné|Kone Camara|Kamara Okafor Okonkwo Adeyemi Mensah Owusu "
            "Bangura Sow Ba Cissé|Cisse Keita|Keïta Nwosu Adebayo Boateng Asante Touré|Toure"
        ),
        (
            ("Nigeria", "NGA"),
            ("Ghana", "GHA"),
            ("Senegal", "SEN"),
            ("Guinea", "GIN"),
            ("Mali", "MLI"),
        ),
    ),
    Tradition(
        "anglo",
        _names(
            "James|Jim|Jimmy Robert|Bob|Rob John|Jack Michael|Mike William|Bill|Will David|Dave "
            "Richard|Rick Joseph|Joe Thomas|Tom Charles|Chuck Christopher|Chris Daniel|Dan "
            "Matthew|Matt Anthony|Tony Steven|Steve"
        ),
        _names(
            "Mary Patricia|Patty Jennifer|Jen Linda Elizabeth|Liz|Beth Barbara|Barb Susan|Sue "
            "Jessica|Jess Sarah Karen Nancy Margaret|Peggy|Maggie Katherine|Kate|Katie "
            "Deborah|Debbie Rebecca|Becky"
        ),
        _names(
            "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore "
            "Martin Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King "
            "Wright Scott Green|Greene Baker Adams Nelson Hill Campbell Mitchell Roberts Carter"
        ),
        (("Canada", "CAN"), ("United Kingdom", "GBR"), ("Ireland", "IRL"), ("Jamaica", "JAM")),
    ),
)

TRADITION_WEIGHTS = (0.36, 0.09, 0.09, 0.05, 0.08, 0.08, 0.08, 0.17)

STREET_NAMES = [
    "Main",
    "Oak",
    "Maple",
    "Cedar",
    "Pine",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Sunset",
    "Lincoln",
    "Jackson",
    "Church",
    "Highland",
    "Ridge",
    "Mill",
    "River",
    "Spring",
    "Valley",
    "Forest",
    "Meadow",
    "Franklin",
    "Jefferson",
    "Madison",
    "Cherry",
    "Walnut",
    "Chestnut",
    "Willow",
    "Magnolia",
    "Broadway",
    "Central",
    "Market",
    "Union",
    "Harrison",
    "Adams",
    "Grant",
]
STREET_SUFFIXES = ("St", "Ave", "Rd", "Dr", "Ln", "Blvd", "Ct", "Way", "Pl")
